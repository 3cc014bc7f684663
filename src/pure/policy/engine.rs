//! Placeholder: evaluation of generated admission policies with the `cel` crate (see the
//! module documentation of [`crate::policy`]).
