// Package dashboard serves avschain's web dashboard: static pages embedded in
// avsd, mounted at /dashboard/ on the API server (as the SDK mounts its
// swagger UI), that read the chain's own REST routes from the same origin.
// The pages need no build step and load nothing from outside the binary.
package dashboard
