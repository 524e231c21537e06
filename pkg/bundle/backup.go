package bundle

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// Backup formats: what a dump is.
const (
	// FormatSQL is a logical SQL dump (mariadb-dump, mysqldump, pg_dump).
	FormatSQL = "sql"
	// FormatRDB is a Redis RDB snapshot (redis-cli --rdb).
	FormatRDB = "rdb"
)

// Backup is backup: in bundle.yaml: how a release of a data bundle is
// dumped and restored. The dump and restore scripts are files of the
// chart, rendered like outputs: (with the bundle's own values and
// release, so they can include the library chart's shared shell) and run
// with sh in Image, with this environment:
//
//	DB_HOST, DB_PORT    the bundle's outputs host and port
//	ADMIN_PASSWORD      key AdminKey of the Secret its output passwordSecret names
//	BACKUP_FILE         the dump: written by the dump script, read by restore
//	BACKUP_DATABASE     (Claims "database") the claim's database, else empty: every database
//	BACKUP_KEY_PREFIX   (Claims "keyPrefix") the claim's key prefix, else empty: every key
//
// A restore replaces what the dump holds (the databases, or the keys under
// the prefix) and leaves the rest of the server as it is.
type Backup struct {
	// Format is FormatSQL or FormatRDB.
	Format string
	// Image is a template of the image the scripts run in, such as
	// '{{ .Values.image.repository }}:{{ .Values.image.tag }}'.
	Image string
	// Dump and Restore are the scripts' files in the chart (backup/dump.sh);
	// DumpScript and RestoreScript their text, read when the bundle is
	// loaded (templates, not yet rendered).
	Dump, Restore             string
	DumpScript, RestoreScript string
	// AdminKey is the key of the administrator's password in the Secret
	// the bundle's output passwordSecret names.
	AdminKey string
	// Claims is the claim output that scopes the backup of one app bound
	// with a claim: "database" (its own database) or "keyPrefix" (its own
	// keys); empty when a claim cannot be backed up apart.
	Claims string
	// Line is where backup: starts; DumpLine and RestoreLine where the
	// scripts are named.
	Line, DumpLine, RestoreLine int
}

// backupClaimScopes are the claim outputs a backup can be scoped by.
var backupClaimScopes = []string{"database", "keyPrefix"}

// backupOutputs are the outputs a bundle with backup: must offer: the
// scripts reach the server and its administrator's Secret with them.
var backupOutputs = []string{"host", "port", "passwordSecret"}

var secretKeyRE = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// parseBackup parses backup: {format, image, dump, restore, adminKey, claims}.
func parseBackup(file string, k, n *yaml.Node) (*Backup, error) {
	m, err := mapping(file, n, "backup")
	if err != nil {
		return nil, err
	}
	b := &Backup{Line: k.Line}
	err = scalarFields(file, m, "backup", func(fk, fv *yaml.Node, f, s string) error {
		switch fk.Value {
		case "format":
			if s != FormatSQL && s != FormatRDB {
				return &FileError{File: file, Line: fv.Line, Field: f, Msg: fmt.Sprintf("unknown format %q", s), Hint: "use sql (a logical SQL dump) or rdb (a Redis RDB snapshot)"}
			}
			b.Format = s
		case "image":
			if strings.TrimSpace(s) == "" {
				return &FileError{File: file, Line: fv.Line, Field: f, Msg: "empty", Hint: "give the image the scripts run in, e.g. '{{ .Values.image.repository }}:{{ .Values.image.tag }}'"}
			}
			b.Image = s
		case "dump", "restore":
			p, err := scriptPath(file, fv, f)
			if err != nil {
				return err
			}
			if fk.Value == "dump" {
				b.Dump, b.DumpLine = p, fv.Line
			} else {
				b.Restore, b.RestoreLine = p, fv.Line
			}
		case "adminKey":
			if !secretKeyRE.MatchString(s) {
				return &FileError{File: file, Line: fv.Line, Field: f, Msg: fmt.Sprintf("invalid Secret key %q", s), Hint: "name the key of the administrator's password in the Secret of output passwordSecret, e.g. mariadb-root-password"}
			}
			b.AdminKey = s
		case "claims":
			if !slices.Contains(backupClaimScopes, s) {
				return &FileError{File: file, Line: fv.Line, Field: f, Msg: fmt.Sprintf("cannot scope a claim's backup by %q", s), Hint: "use database (each app's own database) or keyPrefix (each app's own keys)"}
			}
			b.Claims = s
		default:
			return unknownField(file, fk, "backup.", "format, image, dump, restore, adminKey, claims")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, req := range []struct{ field, val, hint string }{
		{"format", b.Format, "say what a dump is: sql or rdb"},
		{"image", b.Image, "give the image the scripts run in"},
		{"dump", b.Dump, "name the chart's script that writes the dump, e.g. backup/dump.sh"},
		{"restore", b.Restore, "name the chart's script that reads the dump back, e.g. backup/restore.sh"},
		{"adminKey", b.AdminKey, "name the key of the administrator's password in the Secret of output passwordSecret"},
	} {
		if req.val == "" {
			return nil, &FileError{File: file, Line: k.Line, Field: "backup." + req.field, Msg: "missing", Hint: req.hint}
		}
	}
	if b.Dump == b.Restore {
		return nil, &FileError{File: file, Line: b.RestoreLine, Field: "backup.restore", Msg: "the same script as dump", Hint: "give the restore its own script"}
	}
	return b, nil
}

// scriptPath parses the name of a script of the chart: a clean relative
// path outside templates/ (Helm would render it as a manifest) and charts/.
func scriptPath(file string, n *yaml.Node, field string) (string, error) {
	p := n.Value
	top, _, _ := strings.Cut(p, "/")
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || top == ".." || top == "." || top == "templates" || top == "charts" || strings.ContainsAny(p, "\\\x00") {
		return "", &FileError{File: file, Line: n.Line, Field: field, Msg: fmt.Sprintf("invalid script path %q", p),
			Hint: "name a file of the chart outside templates/ and charts/, such as backup/dump.sh"}
	}
	return p, nil
}

// checkBackup checks backup: against the rest of f: the outputs its
// scripts need, and the claim output its claims scope names.
func checkBackup(name string, f *File) error {
	b := f.Backup
	if b == nil {
		return nil
	}
	for _, o := range backupOutputs {
		if !slices.ContainsFunc(f.Outputs, func(p Output) bool { return p.Name == o }) {
			return &FileError{File: name, Line: b.Line, Field: "backup", Msg: "the bundle has no output " + o, Hint: "the scripts reach the server with the outputs " + strings.Join(backupOutputs, ", ") + ": add " + o + " to outputs:"}
		}
	}
	if b.Claims != "" {
		if _, ok := f.Claims.Output(b.Claims); !ok {
			return &FileError{File: name, Line: b.Line, Field: "backup.claims", Msg: "no claim output " + b.Claims, Hint: "add " + b.Claims + " to claims.outputs, or leave backup.claims out"}
		}
	}
	return nil
}

// loadBackupScripts reads b's scripts from the files of chart ch. file is
// bundle.yaml's path in messages. A nil b is left as it is.
func loadBackupScripts(b *Backup, ch *chart.Chart, file string) error {
	if b == nil {
		return nil
	}
	for _, s := range []struct {
		name string
		line int
		text *string
		what string
	}{{b.Dump, b.DumpLine, &b.DumpScript, "dump"}, {b.Restore, b.RestoreLine, &b.RestoreScript, "restore"}} {
		i := slices.IndexFunc(ch.Files, func(f *common.File) bool { return f.Name == s.name })
		if i < 0 || strings.TrimSpace(string(ch.Files[i].Data)) == "" {
			msg := "no such file in the chart"
			if i >= 0 {
				msg = "the script is empty"
			}
			return &FileError{File: file, Line: s.line, Field: "backup." + s.what, Msg: msg + ": " + s.name, Hint: "add the " + s.what + " script to the chart as " + s.name}
		}
		*s.text = string(ch.Files[i].Data)
	}
	return nil
}
