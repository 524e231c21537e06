package render

// Whether an uninstall deletes data is a parameter of that one operation,
// never state left on an object: a claim's pre-delete hook reads
// DeleteDataEnv, and bundle sets it on the hook's Job as the hook is
// created, to "true" in the uninstall that asks for it (--delete-data) and
// to "false" in every other, whatever the templates (or an object an
// earlier, interrupted uninstall left behind) say.

import "strconv"

// DeleteDataEnv is the environment variable of a claim's pre-delete hook
// that says whether to drop the claim's data (its database, its keys) with
// its user.
const DeleteDataEnv = "DELETE_DATA"

// SetDeleteData sets DeleteDataEnv to deleteData in every container and
// init container of obj, a Job, Pod or other object with a pod template
// (spec.template.spec), as a plain value (a valueFrom is replaced) where
// the container names it. It reports whether obj names it anywhere.
func SetDeleteData(obj map[string]any, deleteData bool) bool {
	spec, _ := obj["spec"].(map[string]any)
	if tmpl, ok := spec["template"].(map[string]any); ok {
		spec, _ = tmpl["spec"].(map[string]any)
	}
	found := false
	for _, key := range []string{"initContainers", "containers"} {
		cs, _ := spec[key].([]any)
		for _, c := range cs {
			c, _ := c.(map[string]any)
			env, _ := c["env"].([]any)
			for i, e := range env {
				if e, ok := e.(map[string]any); ok && e["name"] == DeleteDataEnv {
					env[i] = map[string]any{"name": DeleteDataEnv, "value": strconv.FormatBool(deleteData)}
					found = true
				}
			}
		}
	}
	return found
}
