package registry

import (
	"context"
	"encoding/base64"
	"strings"
)

// Credentials are the registry logins a client presents: host -> the
// base64 "user:password" of a docker config's auths entry.
type Credentials map[string]string

// Private makes every repository whose name (host/path, no tag or digest)
// starts with repositoryPrefix private: it resolves only for a client
// presenting user and password for the registry's host. Repositories are
// public unless made private, so payloads stay pullable without
// credentials unless a test opts in.
func (r *Registry) Private(repositoryPrefix, user, password string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.private == nil {
		r.private = map[string]string{}
	}
	r.private[repositoryPrefix] = base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// ResolveWith is Resolve for a client presenting creds: a private
// repository without the right login fails with ReasonUnauthorized, as a
// registry's 401 does.
func (r *Registry) ResolveWith(ctx context.Context, pullSpec string, creds Credentials) (*Image, error) {
	if want, private := r.requiredAuth(pullSpec); private {
		host, _, _ := strings.Cut(pullSpec, "/")
		if creds[host] != want {
			r.mu.Lock()
			r.resolves[pullSpec]++
			r.total++
			r.mu.Unlock()
			return nil, unauthorizedError(pullSpec)
		}
	}
	return r.Resolve(ctx, pullSpec)
}

// IsPrivate reports whether pullSpec names a private repository.
func (r *Registry) IsPrivate(pullSpec string) bool {
	_, private := r.requiredAuth(pullSpec)
	return private
}

func (r *Registry) requiredAuth(pullSpec string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for prefix, auth := range r.private {
		if strings.HasPrefix(pullSpec, prefix) {
			return auth, true
		}
	}
	return "", false
}
