package plan

// Grants: what a provider's owner publishes, in the provider's namespace,
// for one consumer of another namespace (bundle grant). A consumer of
// another namespace reads its grant and nothing else there: the grant
// says which provider it stands for (its bundle, version, repository and
// digest, its outputs as they rendered for the owner) and, when the
// provider offers claims, which Secret holds the claim's credentials. The
// grant's own objects (the claim's Jobs, its Secret, the rights to read
// it) belong to the owner's release of the grant, in the provider's
// namespace: a consumer creates nothing there.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// GrantAnnotation is the Chart.yaml annotation of a grant's release: its
// GrantRecord, as JSON. A release that has it is a grant, not an app.
const GrantAnnotation = "bundle.sh/grant"

// GrantRecordKey is the key of the grant's ConfigMap (NAME-grant) that
// holds its GrantRecord as JSON: what the consumer reads.
const GrantRecordKey = "grant.json"

// MaxGrantRecord bounds the grant record a consumer reads.
const MaxGrantRecord = 64 << 10

// Grant is where the grant of a binding lives: its release and objects
// in the provider's namespace (Namespace, Name); with a claim, the
// claim's Secret there is named Name too.
type Grant struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (g Grant) String() string { return g.Namespace + "/" + g.Name }

// Consumer names who a grant is for: the requirement Instance of release
// Release in Namespace (a blue/green app's name for both its colours).
type Consumer struct {
	Namespace string `json:"namespace"`
	Release   string `json:"release"`
	Instance  string `json:"instance"`
}

func (c Consumer) String() string { return c.Namespace + "/" + c.Release + "/" + c.Instance }

// ParseConsumer reads NAMESPACE/RELEASE/INSTANCE.
func ParseConsumer(s string) (Consumer, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Consumer{}, errdefs.New(errdefs.ErrInvalid, "consumer %q: write NAMESPACE/RELEASE/INSTANCE, the app's namespace, its release and the requirement it binds (e.g. web/wiki/database for bundle install wiki ... -n web --bind database=...)", s)
	}
	c := Consumer{Namespace: parts[0], Release: parts[1], Instance: parts[2]}
	if err := c.Valid(); err != nil {
		return Consumer{}, err
	}
	return c, nil
}

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// A release name, as Helm allows it.
	releaseName  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	instanceName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Valid checks that c's names are a namespace's, a release's and a
// requirement's.
func (c Consumer) Valid() error {
	switch {
	case len(c.Namespace) > 63 || !dnsLabel.MatchString(c.Namespace):
		return errdefs.New(errdefs.ErrInvalid, "consumer %s: namespace %q is not a Kubernetes namespace name", c, c.Namespace)
	case len(c.Release) > 53 || !releaseName.MatchString(c.Release):
		return errdefs.New(errdefs.ErrInvalid, "consumer %s: release %q is not a release name (lower case letters, digits, - and ., at most 53)", c, c.Release)
	case len(c.Instance) > 63 || !instanceName.MatchString(c.Instance):
		return errdefs.New(errdefs.ErrInvalid, "consumer %s: instance %q is not a requirement name", c, c.Instance)
	}
	return nil
}

// GrantRecord is what a grant publishes for its consumer.
type GrantRecord struct {
	// Provider is the release the grant stands for.
	Provider GrantProvider `json:"provider"`
	// Consumer is who may use it.
	Consumer Consumer `json:"consumer"`
	// Claim, when the provider offers claims, is the claim the grant
	// made: its id (database and user) and where its password is.
	Claim *GrantClaim `json:"claim,omitempty"`
}

// GrantProvider is the provider as its owner's grant read it: its release,
// its root bundle (name, version, repository, content digest, checked
// against the repository when the grant was made) and its outputs as they
// rendered for the release.
type GrantProvider struct {
	Release    string            `json:"release"`
	Namespace  string            `json:"namespace"`
	Bundle     string            `json:"bundle"`
	Version    string            `json:"version"`
	Repository string            `json:"repository"`
	Digest     string            `json:"digest"`
	Outputs    map[string]string `json:"outputs,omitempty"`
}

// GrantClaim is a grant's claim: its id, and the Secret of the provider's
// namespace that holds its credentials (the one its templates name
// .Values.claim.name), which the consumer's release copies into its own.
type GrantClaim struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// ParseGrantRecord reads a grant record (JSON, at most MaxGrantRecord
// bytes, no unknown field) and checks that it is whole. source names
// where it was read, for the errors.
func ParseGrantRecord(source string, data []byte) (*GrantRecord, error) {
	if len(data) > MaxGrantRecord {
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: the grant record is %d bytes, more than %d", source, len(data), MaxGrantRecord)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r GrantRecord
	if err := dec.Decode(&r); err != nil {
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: the grant record is not readable: %v", source, err)
	}
	if dec.More() {
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: the grant record has more than one JSON value", source)
	}
	if err := r.check(); err != nil {
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: the grant record %v", source, err)
	}
	return &r, nil
}

func (r *GrantRecord) check() error {
	p := r.Provider
	switch {
	case p.Release == "" || p.Namespace == "" || p.Bundle == "":
		return fmt.Errorf("names no provider (release, namespace and bundle)")
	case p.Digest == "":
		return fmt.Errorf("has no digest of %s", p.Bundle)
	case p.Repository == "":
		return fmt.Errorf("has no repository of %s", p.Bundle)
	}
	if _, err := semver.StrictNewVersion(p.Version); err != nil {
		return fmt.Errorf("version %q: %v", p.Version, err)
	}
	if err := r.Consumer.Valid(); err != nil {
		return err
	}
	if c := r.Claim; c != nil && (c.ID == "" || c.Secret == "") {
		return fmt.Errorf("has a claim without its id or Secret")
	}
	return nil
}
