//! Tests of the registry and the generic scan.

use super::*;
