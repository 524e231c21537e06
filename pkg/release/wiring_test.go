package release

import (
	"reflect"
	"testing"

	"github.com/bundlesh/bundle/pkg/plan"
)

func TestSplitWiring(t *testing.T) {
	type m = map[string]any
	tests := []struct {
		name         string
		config       m
		resolved     []plan.Resolved
		user, wiring m
	}{
		{"no values", nil, nil, m{}, m{}},
		{"user values only", m{"a": 1}, nil, m{"a": 1}, m{}},
		{"top wiring; the instance's empty map goes",
			m{"a": 1, "database": m{}, "requires": m{"database": m{"host": "h"}}},
			[]plan.Resolved{{Instance: "database"}},
			m{"a": 1}, m{"requires": m{"database": m{"host": "h"}}}},
		{"nested wiring; the user's values of the instance stay",
			m{"requires": m{"backend": m{"url": "u"}}, "backend": m{"port": 1, "requires": m{"store": m{"host": "s"}}, "store": m{}}},
			[]plan.Resolved{{Instance: "backend"}, {Instance: "backend.store"}},
			m{"backend": m{"port": 1}}, m{"requires": m{"backend": m{"url": "u"}}, "backend": m{"requires": m{"store": m{"host": "s"}}}}},
		{"a bound requirement's claim",
			m{"database": m{"claim": m{"user": "x"}}, "requires": m{"database": m{"host": "h"}}},
			[]plan.Resolved{{Instance: "database", Bound: "data/db", Claim: true}},
			m{}, m{"database": m{"claim": m{"user": "x"}}, "requires": m{"database": m{"host": "h"}}}},
		{"claim: a user's key of an unbound instance stays",
			m{"database": m{"claim": "mine"}},
			[]plan.Resolved{{Instance: "database"}},
			m{"database": m{"claim": "mine"}}, m{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, wiring := splitWiring(tt.config, tt.resolved)
			if !reflect.DeepEqual(user, tt.user) {
				t.Errorf("user = %v, want %v", user, tt.user)
			}
			if !reflect.DeepEqual(wiring, tt.wiring) {
				t.Errorf("wiring = %v, want %v", wiring, tt.wiring)
			}
		})
	}
}
