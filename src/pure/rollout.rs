//! The rules of applying a plan, without the cluster: namespace label changes and their merge
//! patches, the rollback decision ([`labels`]), and judging an enforce dry run and the objects a
//! level would reject ([`enforce`]). The effectful runs live in `edge::apply`.

pub mod enforce;
pub mod labels;
