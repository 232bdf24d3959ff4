// Package test holds tests of the project as a whole: the shipped RBAC
// against what the step really does on the fake cluster.
package test
