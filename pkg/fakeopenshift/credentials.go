package fakeopenshift

import (
	"context"
	"encoding/base64"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// Registry credentials. A repository made private with
// Registry().Private resolves only for a client with its login:
//   - the kubelet pulls a pod's image with the pod's imagePullSecrets and
//     those of its service account; without them the container waits in
//     ErrImagePull and the pod stays Pending;
//   - an import (the controller's or an ImageStreamImport) uses every
//     kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secret of
//     the stream's namespace, as OpenShift's import does; without a login
//     the tag's import fails with reason Unauthorized.

type dockerAuth struct {
	Auth     string `json:"auth"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// credentials reads the registry logins of the named docker config secrets
// of a namespace, or of all of them when names is nil.
func (c *Cluster) credentials(ctx context.Context, namespace string, names []string) registry.Credentials {
	var secrets []ctrlruntimeclient.Object
	if names == nil {
		secrets = c.backend.list(ctx, secretGVK, namespace)
	}
	for _, name := range names {
		if s := c.backend.get(ctx, objectKey{gvk: secretGVK, namespace: namespace, name: name}); s != nil {
			secrets = append(secrets, s)
		}
	}
	out := registry.Credentials{}
	for _, obj := range secrets {
		for host, auth := range dockerAuths(obj.(*corev1.Secret)) {
			out[host] = auth
		}
	}
	return out
}

var secretGVK = corev1.SchemeGroupVersion.WithKind("Secret")

// dockerAuths decodes a docker config secret into host -> base64
// "user:password".
func dockerAuths(s *corev1.Secret) map[string]string {
	entries := map[string]dockerAuth{}
	switch s.Type {
	case corev1.SecretTypeDockerConfigJson:
		var cfg struct {
			Auths map[string]dockerAuth `json:"auths"`
		}
		if json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg) != nil {
			return nil
		}
		entries = cfg.Auths
	case corev1.SecretTypeDockercfg:
		if json.Unmarshal(s.Data[corev1.DockerConfigKey], &entries) != nil {
			return nil
		}
	default:
		return nil
	}
	out := map[string]string{}
	for host, e := range entries {
		if e.Auth == "" && e.Username != "" {
			e.Auth = base64.StdEncoding.EncodeToString([]byte(e.Username + ":" + e.Password))
		}
		out[host] = e.Auth
	}
	return out
}

// podCredentials are the logins the kubelet pulls a pod's images with: the
// pod's imagePullSecrets and its service account's.
func (c *Cluster) podCredentials(ctx context.Context, pod *corev1.Pod) registry.Credentials {
	names := []string{}
	for _, ref := range pod.Spec.ImagePullSecrets {
		names = append(names, ref.Name)
	}
	saName := pod.Spec.ServiceAccountName
	if sa, ok := c.backend.get(ctx, objectKey{gvk: corev1.SchemeGroupVersion.WithKind("ServiceAccount"), namespace: pod.Namespace, name: saName}).(*corev1.ServiceAccount); ok {
		for _, ref := range sa.ImagePullSecrets {
			names = append(names, ref.Name)
		}
	}
	return c.credentials(ctx, pod.Namespace, names)
}
