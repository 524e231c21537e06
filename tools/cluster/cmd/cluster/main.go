// Command cluster runs a local Kubernetes control plane for bundle's demo and
// integration tests: etcd (embedded), kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok (simulated kubelets), all
// on 127.0.0.1 with free ports, plus simulated nodes and a default
// StorageClass whose claims bind.
//
//	cluster up   --bin DIR --kwok FILE --stages DIR --state DIR [--nodes N]   start (idempotent; N nodes, 3 by default)
//	cluster down --state DIR                          stop and delete state
//	cluster status --state DIR                        exit 0 when healthy
//
// "up" writes STATE/kubeconfig, with the serving CA and an admin token, so
// TLS is verified.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// components in start order; down stops them in reverse.
var components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cluster up|down|status [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	bin := fs.String("bin", "", "directory holding etcd, kube-apiserver, kube-controller-manager and kube-scheduler")
	kwok := fs.String("kwok", "", "the kwok binary (default: BIN/kwok)")
	stages := fs.String("stages", "", "directory of kwok Stage files")
	state := fs.String("state", ".cache/cluster/run", "directory for data, logs, pid files and the kubeconfig")
	nodes := fs.Int("nodes", 3, "simulated nodes to create, at least 1 (3 by default: room for redis-ha's replicas with hardAntiAffinity=true; make test also starts one of 1)")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for the control plane")
	fs.Parse(os.Args[2:])

	var err error
	switch os.Args[1] {
	case "up":
		if *nodes < 1 {
			err = fmt.Errorf("--nodes %d: give at least 1", *nodes)
			break
		}
		if *kwok == "" {
			*kwok = filepath.Join(*bin, "kwok")
		}
		err = up(*bin, *kwok, *stages, *state, *nodes, *timeout)
	case "down":
		err = down(*state)
	case "status":
		err = status(*state)
	default:
		err = fmt.Errorf("unknown command %q: use up, down or status", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func up(bin, kwok, stages, state string, nodes int, timeout time.Duration) error {
	if bin == "" || stages == "" {
		return errors.New("up needs --bin and --stages")
	}
	if status(state) == nil {
		fmt.Printf("cluster already running; kubeconfig: %s\n", filepath.Join(state, "kubeconfig"))
		return nil
	}
	_ = down(state) // clear a half-started or crashed one
	if err := os.MkdirAll(filepath.Join(state, "logs"), 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	fail := func(err error) error {
		_ = down(state)
		return fmt.Errorf("%w (logs were in %s/logs)", err, state)
	}

	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	pki := filepath.Join(state, "pki")
	token, err := writePKI(pki)
	if err != nil {
		return fail(err)
	}

	if err := startProc(state, bin, "etcd", "--data-dir", filepath.Join(state, "etcd"),
		"--client-port", strconv.Itoa(etcdPort), "--peer-port", strconv.Itoa(peerPort)); err != nil {
		return fail(err)
	}
	if err := waitHTTP(ctx, state, "etcd", fmt.Sprintf("http://127.0.0.1:%d/health", etcdPort), nil, ""); err != nil {
		return fail(fmt.Errorf("etcd did not become healthy: %w", err))
	}

	apiURL := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	if err := startProc(state, bin, "kube-apiserver",
		"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(apiPort),
		"--tls-cert-file", filepath.Join(pki, "apiserver.crt"),
		"--tls-private-key-file", filepath.Join(pki, "apiserver.key"),
		"--client-ca-file", filepath.Join(pki, "ca.crt"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(pki, "sa.key"),
		"--service-account-signing-key-file", filepath.Join(pki, "sa.key"),
		"--token-auth-file", filepath.Join(pki, "tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return fail(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		return fail(err)
	}
	if err := waitHTTP(ctx, state, "kube-apiserver", apiURL+"/readyz", caPEM, token); err != nil {
		return fail(fmt.Errorf("kube-apiserver did not become ready: %w", err))
	}

	kubeconfig := filepath.Join(state, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, apiURL, caPEM, token); err != nil {
		return fail(err)
	}

	if err := startProc(state, bin, "kube-controller-manager",
		"--kubeconfig", kubeconfig,
		"--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(kcmPort),
		"--service-account-private-key-file", filepath.Join(pki, "sa.key"),
		"--root-ca-file", filepath.Join(pki, "ca.crt"),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--controllers", "*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route",
		"--node-monitor-grace-period", "40s",
		"--profiling=false",
	); err != nil {
		return fail(err)
	}
	if err := startProc(state, bin, "kube-scheduler",
		"--kubeconfig", kubeconfig,
		"--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(schedPort),
		"--leader-elect=false",
		"--profiling=false",
	); err != nil {
		return fail(err)
	}
	kwokArgs := []string{
		"--kubeconfig", kubeconfig,
		"--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
		"--server-address", fmt.Sprintf("127.0.0.1:%d", kwokPort),
		"--cidr", "10.244.0.0/16",
	}
	stageFiles, err := filepath.Glob(filepath.Join(stages, "*.yaml"))
	if err != nil || len(stageFiles) == 0 {
		return fail(fmt.Errorf("no kwok Stage files in %s", stages))
	}
	for _, f := range stageFiles {
		kwokArgs = append(kwokArgs, "-c", f)
	}
	if err := startProc(state, filepath.Dir(kwok), "kwok", kwokArgs...); err != nil {
		return fail(err)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fail(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fail(err)
	}
	if err := seed(ctx, cs, nodes); err != nil {
		return fail(err)
	}
	fmt.Printf("cluster up in %.1fs: %s (Kubernetes %s)\nkubeconfig: %s\n", time.Since(start).Seconds(), apiURL, serverVersion(cs), kubeconfig)
	return nil
}

// seed creates the default StorageClass and the simulated nodes, then waits
// for the nodes to be Ready and schedulable and for the default service
// account to exist.
func seed(ctx context.Context, cs kubernetes.Interface, n int) error {
	mode := storagev1.VolumeBindingImmediate
	reclaim := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "kwok-volume",
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       "kwok.x-k8s.io/volume",
		ReclaimPolicy:     &reclaim,
		VolumeBindingMode: &mode,
	}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating StorageClass: %w", err)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
				Labels: map[string]string{
					"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
					"type": "kwok", "topology.kubernetes.io/zone": fmt.Sprintf("zone-%d", i%3),
				},
			},
			Status: corev1.NodeStatus{
				Allocatable: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110"),
				},
				Capacity: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110"),
				},
			},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating node %s: %w", name, err)
		}
	}
	for {
		ready, why := nodesReady(ctx, cs, n)
		if ready {
			if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err == nil {
				return nil
			} else {
				why = "waiting for the default service account"
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %s", why)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func nodesReady(ctx context.Context, cs kubernetes.Interface, n int) (bool, string) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err.Error()
	}
	ready := 0
	for _, node := range list.Items {
		ok := false
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		for _, t := range node.Spec.Taints {
			if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
				ok = false
			}
		}
		if ok {
			ready++
		}
	}
	if ready < n {
		return false, fmt.Sprintf("%d of %d nodes ready and untainted", ready, n)
	}
	return true, ""
}

func serverVersion(cs kubernetes.Interface) string {
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return "unknown: " + err.Error()
	}
	return v.GitVersion
}

func down(state string) error {
	var errs []error
	for i := len(components) - 1; i >= 0; i-- {
		pidFile := filepath.Join(state, components[i]+".pid")
		data, err := os.ReadFile(pidFile)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			continue
		}
		if err := stop(pid); err != nil {
			errs = append(errs, fmt.Errorf("%s (pid %d): %w", components[i], pid, err))
		}
		os.Remove(pidFile)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, d := range []string{"etcd", "pki"} {
		os.RemoveAll(filepath.Join(state, d))
	}
	os.Remove(filepath.Join(state, "kubeconfig"))
	return nil
}

// stop sends SIGTERM to a process group, then SIGKILL after 10 s.
func stop(pid int) error {
	if !alive(pid) {
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	time.Sleep(200 * time.Millisecond)
	if alive(pid) {
		return errors.New("did not stop")
	}
	return nil
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// A zombie (exited, not reaped) counts as stopped.
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data))
	return len(fields) < 3 || fields[2] != "Z"
}

func status(state string) error {
	for _, c := range components {
		data, err := os.ReadFile(filepath.Join(state, c+".pid"))
		if err != nil {
			return fmt.Errorf("%s is not running", c)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if pid == 0 || !alive(pid) {
			return fmt.Errorf("%s is not running", c)
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(state, "kubeconfig"))
	if err != nil {
		return err
	}
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return fmt.Errorf("kube-apiserver does not answer: %w", err)
	}
	return nil
}

// startProc starts a component in its own process group, detached from this
// one, logging to STATE/logs/NAME.log, and records its pid.
func startProc(state, bin, name string, args ...string) error {
	path := filepath.Join(bin, name)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %w (build it with make cluster-build)", name, err)
	}
	logf, err := os.OpenFile(filepath.Join(state, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(state, name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// waitHTTP polls url until it answers 200, failing early when the
// component's process has exited.
func waitHTTP(ctx context.Context, state, component, url string, caPEM []byte, token string) error {
	tr := &http.Transport{}
	if caPEM != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if data, err := os.ReadFile(filepath.Join(state, component+".pid")); err == nil {
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(data))); pid > 0 && !alive(pid) {
				return fmt.Errorf("%s exited; see %s", component, filepath.Join(state, "logs", component+".log"))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %s", url, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writePKI writes a CA, a serving certificate for 127.0.0.1 and localhost
// signed by it, a service-account signing key and a static admin token.
func writePKI(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	now := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bundle-local-ca"},
		NotBefore: now, NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, IsCA: true, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now, NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return "", err
	}
	token := hex.EncodeToString(tok)
	files := map[string][]byte{
		"ca.crt":        pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"apiserver.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		"apiserver.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(srvKey)}),
		"sa.key":        pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		"tokens.csv":    []byte(token + ",admin,admin,\"system:masters\"\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", err
		}
	}
	return token, nil
}

func writeKubeconfig(path, server string, caPEM []byte, token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: bundle-local
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: bundle-local
  context:
    cluster: bundle-local
    user: admin
    namespace: default
current-context: bundle-local
`, server, b64(caPEM), token)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

func b64(b []byte) string {
	return base64.StdEncoding.EncodeToString(b)
}
