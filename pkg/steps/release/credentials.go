package release

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// ServiceAccount is the account the extract pod runs as. ci-operator's
	// steps share it: it carries the namespace's registry credentials as its
	// image pull secret and is bound to the Role ImageRole.
	ServiceAccount = "ci-operator"
	// RegistryPullSecret is the secret ci-operator copies the job's registry
	// credentials into, in every test namespace.
	RegistryPullSecret = "registry-pull-credentials"
	// ImageRole names the Role, and its RoleBinding to ServiceAccount, that
	// let ci-operator's pods work with image streams and ConfigMaps.
	ImageRole = "ci-operator-image"
)

// ImageRoleRules are the rules of the Role ImageRole, the same as
// ci-operator's other steps create, since whichever step is first creates
// it for all of them.
func ImageRoleRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"", "image.openshift.io"}, Resources: []string{"imagestreams/layers"}, Verbs: []string{"get", "update"}},
		{APIGroups: []string{"", "image.openshift.io"}, Resources: []string{"imagestreams", "imagestreamtags"}, Verbs: []string{"create", "get", "list", "update", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "get", "list", "update", "delete"}},
	}
}

// CredentialObjects returns the service account, Role and RoleBinding the
// extract pod runs with, as ci-operator creates them in a namespace.
func CredentialObjects(namespace string) []ctrlruntimeclient.Object {
	return []ctrlruntimeclient.Object{
		&corev1.ServiceAccount{
			ObjectMeta:       metav1.ObjectMeta{Name: ServiceAccount, Namespace: namespace},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: RegistryPullSecret}},
		},
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: ImageRole, Namespace: namespace},
			Rules:      ImageRoleRules(),
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ImageRole, Namespace: namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ImageRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: ServiceAccount, Namespace: namespace}},
		},
	}
}

// ensureCredentials creates the extract pod's service account, Role and
// RoleBinding unless they exist. Objects that exist are left as they are:
// ci-operator's other steps create the same ones, and the token controller
// adds the account's dockercfg secret to its pull secrets.
func (s *importReleaseStep) ensureCredentials(ctx context.Context, namespace string) error {
	for _, obj := range CredentialObjects(namespace) {
		if err := s.client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("could not create %s %s/%s: %w", kindOf(obj), namespace, obj.GetName(), err)
		}
	}
	return nil
}

func kindOf(obj ctrlruntimeclient.Object) string {
	switch obj.(type) {
	case *corev1.ServiceAccount:
		return "service account"
	case *rbacv1.Role:
		return "role"
	case *rbacv1.RoleBinding:
		return "role binding"
	}
	return fmt.Sprintf("%T", obj)
}
