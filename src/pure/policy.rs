//! Admission policies that keep what Pod Security Standards cannot express: for each group of
//! planned namespaces with the same usable-PSP picture, a `ValidatingAdmissionPolicy` that admits
//! a pod only when a PSP usable there (by the pod's service account or the requesting user) would
//! have validated it as written, and a `MutatingAdmissionPolicy` that applies the defaults of the
//! PSP the 1.24 admission plugin would have chosen.
//!
//! * [`api`] — which API versions serve the policies at a target Kubernetes version.
//! * [`engine`] — evaluation of generated policies with the `cel` crate (the proof in `plan`).
//!
//! Pure: no I/O.

/// API versions of ValidatingAdmissionPolicy and MutatingAdmissionPolicy per Kubernetes version.
pub mod api;
/// Evaluates ValidatingAdmissionPolicy and MutatingAdmissionPolicy objects with a CEL engine.
pub mod engine;
