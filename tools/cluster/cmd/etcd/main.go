// Command etcd runs a single-member etcd server embedded through
// go.etcd.io/etcd/server/v3/embed, listening on 127.0.0.1 only.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	dir := flag.String("data-dir", "", "directory for etcd's data (required)")
	client := flag.Int("client-port", 2379, "client port on 127.0.0.1")
	peer := flag.Int("peer-port", 2380, "peer port on 127.0.0.1")
	flag.Parse()
	if *dir == "" {
		log.Fatal("etcd: --data-dir is required")
	}
	cfg := embed.NewConfig()
	cfg.Name = "local"
	cfg.Dir = *dir
	cfg.LogLevel = "error"
	cu := mustURL(fmt.Sprintf("http://127.0.0.1:%d", *client))
	pu := mustURL(fmt.Sprintf("http://127.0.0.1:%d", *peer))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// A throw-away development store: trade durability for speed.
	cfg.UnsafeNoFsync = true

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatalf("etcd: %v", err)
	}
	defer e.Close()
	<-e.Server.ReadyNotify()
	fmt.Fprintf(os.Stderr, "etcd ready on %s\n", cu.String())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-e.Err():
		log.Fatalf("etcd: %v", err)
	case <-sig:
	}
}

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		log.Fatal(err)
	}
	return *u
}
