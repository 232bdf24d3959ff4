package fakeopenshift

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// resolveLocalName turns a container image that is a local name, `stream:tag`
// with no registry host and no path, into the pull spec of the tag's current
// image when the stream in the pod's namespace has lookupPolicy.local, as
// OpenShift's image policy admission does for pods. Any other image, and a
// local name that does not resolve, is returned as it is; the pull then
// fails as it would on a node.
func (c *Cluster) resolveLocalName(ctx context.Context, namespace, image string) string {
	stream, tag, ok := strings.Cut(image, ":")
	if !ok || stream == "" || tag == "" || strings.ContainsAny(stream, "/.@") || strings.Contains(tag, "@") {
		return image
	}
	is := &imagev1.ImageStream{}
	if err := c.Client("kubelet").Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: stream}, is); err != nil || !is.Spec.LookupPolicy.Local {
		return image
	}
	for _, t := range is.Status.Tags {
		if t.Tag == tag && len(t.Items) > 0 && t.Items[0].DockerImageReference != "" {
			// Admission resolves by the tag's reference policy: Local names
			// the integrated registry, which pulls through (pullThrough).
			return resolveReference(is, tag, &t.Items[0])
		}
	}
	return image
}

// pullThrough serves a pull from the integrated registry as OpenShift's does
// for an image imported into a stream: `<registry>/<namespace>/<stream>@<digest>`
// is pulled from the source the stream imported that digest from, with the
// logins of the stream's namespace (the registry's pull-through uses the
// namespace's secrets, as the import does). Any other image is returned as
// it is with the pod's own logins.
func (c *Cluster) pullThrough(ctx context.Context, pod *corev1.Pod, image string) (string, registry.Credentials) {
	rest, ok := strings.CutPrefix(image, c.opts.InternalRegistry+"/")
	repo, digest, hasDigest := strings.Cut(rest, "@")
	namespace, stream, inNamespace := strings.Cut(repo, "/")
	if !ok || !hasDigest || !inNamespace {
		return image, c.podCredentials(ctx, pod)
	}
	is := &imagev1.ImageStream{}
	if err := c.Client("image-registry").Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: stream}, is); err != nil {
		return image, c.podCredentials(ctx, pod)
	}
	for _, t := range is.Status.Tags {
		for _, item := range t.Items {
			if item.Image == digest && item.DockerImageReference != "" {
				return item.DockerImageReference, c.credentials(ctx, namespace, nil)
			}
		}
	}
	return image, c.podCredentials(ctx, pod)
}

// runFileCommand runs the file commands of the extract script: `mkdir -p`
// (files are in memory, so it only succeeds), `cp SRC DST` from a file the
// script wrote or a key of a mounted Secret, and `oc registry login
// --to=FILE`, which merges the integrated registry's credentials into the
// docker configuration FILE. ok is false for any other command.
func (s *shell) runFileCommand(ctx context.Context, words []string, flags map[string]string, args []string) (out []byte, ok bool, err error) {
	switch {
	case path.Base(words[0]) == "mkdir" && len(words) > 2 && words[1] == "-p":
		return nil, true, nil
	case path.Base(words[0]) == "cp" && len(args) == 3 && len(flags) == 0:
		data, err := s.readFile(ctx, args[1])
		if err != nil {
			return nil, true, err
		}
		s.files[args[2]] = data
		return nil, true, nil
	case len(args) == 3 && args[0] == "oc" && args[1] == "registry" && args[2] == "login" && flags["to"] != "" && len(flags) == 1:
		config := map[string]map[string]any{"auths": {}}
		if data, exists := s.files[flags["to"]]; exists {
			if err := json.Unmarshal(data, &config); err != nil || config["auths"] == nil {
				return nil, true, fmt.Errorf("error: %s is not a docker configuration", flags["to"])
			}
		}
		config["auths"][s.cluster.opts.InternalRegistry] = map[string]string{"auth": "c2VydmljZWFjY291bnQ6dG9rZW4="}
		data, err := json.Marshal(config)
		if err != nil {
			return nil, true, err
		}
		s.files[flags["to"]] = data
		return []byte("Saved credentials for " + s.cluster.opts.InternalRegistry + " into " + flags["to"] + "\n"), true, nil
	}
	return nil, false, nil
}

// readFile reads a file the script wrote, or a key of a Secret mounted into
// the pod's first container.
func (s *shell) readFile(ctx context.Context, name string) ([]byte, error) {
	if data, exists := s.files[name]; exists {
		return data, nil
	}
	for _, m := range s.pod.Spec.Containers[0].VolumeMounts {
		if path.Dir(name) != path.Clean(m.MountPath) {
			continue
		}
		for _, v := range s.pod.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			secret := &corev1.Secret{}
			if err := s.cluster.Client("kubelet").Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: s.pod.Namespace, Name: v.Secret.SecretName}, secret); err != nil {
				return nil, fmt.Errorf("cp: cannot stat '%s': %w", name, err)
			}
			if data, ok := secret.Data[path.Base(name)]; ok {
				return data, nil
			}
		}
	}
	return nil, fmt.Errorf("cp: cannot stat '%s': No such file or directory", name)
}

// writtenRegistryConfig returns the logins of a docker configuration file
// the script wrote (with cp and oc registry login), and whether there is one.
func (s *shell) writtenRegistryConfig(file string) (registry.Credentials, bool) {
	data, ok := s.files[file]
	if !ok {
		return nil, false
	}
	return registry.Credentials(dockerAuths(&corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: data}})), true
}
