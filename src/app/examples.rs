//! The `Examples:` section of every subcommand's `--help`: one list per command, here, so that a
//! test can run every example's command line through the real parser and an example can never
//! drift from the flags.

/// One example: what it does, and the shell line that does it.
pub struct Example {
    pub about: &'static str,
    /// A `psa-migrate` command line, perhaps within a pipeline (`|`) or redirected (`>`). No
    /// quotes: the test splits it at spaces.
    pub line: &'static str,
}

const fn ex(about: &'static str, line: &'static str) -> Example {
    Example { about, line }
}

pub const CHECK: &[Example] = &[
    ex(
        "Judge a Helm chart's pods against restricted before installing it",
        "helm template ./chart | psa-migrate check -f - --level restricted",
    ),
    ex(
        "Judge one namespace of the current cluster against baseline as Kubernetes 1.24 does",
        "psa-migrate check -n ml-workloads --level baseline --version v1.24",
    ),
    ex(
        "SARIF for code scanning, with one DaemonSet left out of the verdict",
        "psa-migrate check -f manifests/ --level restricted --exclude DaemonSet/kube-system/node-exporter -o sarif > psa.sarif",
    ),
];

pub const EXPORT: &[Example] = &[
    ex(
        "Keep an offline copy of the cluster before upgrading to 1.25 (PSPs cannot be read after)",
        "psa-migrate export --out export/",
    ),
    ex(
        "Refresh an earlier export of another kubeconfig context",
        "psa-migrate export --context prod --out export/prod --force",
    ),
];

pub const INVENTORY: &[Example] = &[
    ex(
        "Who may use which PSP in the demo cluster, per namespace",
        "psa-migrate inventory -f testdata/clusters/ml-platform",
    ),
    ex(
        "The same for a live cluster, with no column shortened to the terminal",
        "psa-migrate inventory --context prod -o wide",
    ),
    ex(
        "Fail a CI job on any warning, keeping the report as JSON",
        "psa-migrate inventory -f export/ --fail-on warning -o json > inventory.json",
    ),
];

pub const MAP: &[Example] = &[
    ex("The nearest level of every PSP in an export", "psa-migrate map -f export/"),
    ex(
        "The strict reading, as Markdown for a review",
        "psa-migrate map -f export/ --strict -o markdown > psp-levels.md",
    ),
];

pub const PLAN: &[Example] = &[
    ex(
        "Plan from an export into migrations/prod",
        "psa-migrate plan -f export/ --out migrations/prod",
    ),
    ex(
        "Plan the live cluster, enforcing what the pods need and exempting kube-system",
        "psa-migrate plan --context prod --name prod --tighten --exempt-namespace kube-system",
    ),
    ex(
        "Pin enforce to 1.24 and write the residual policies for 1.30",
        "psa-migrate plan -f export/ --cluster-version v1.24 --policy-version v1.30",
    ),
];

pub const DIFF: &[Example] = &[
    ex("What the plan's label steps would change", "psa-migrate diff --plan migrations/prod"),
    ex(
        "Only the enforce labels, against another context",
        "psa-migrate diff --plan migrations/prod --step 2 --context prod",
    ),
];

pub const APPLY: &[Example] = &[
    ex("Step 1: audit and warn labels", "psa-migrate apply --plan migrations/prod --step 1"),
    ex(
        "Step 2, after a soak: enforce labels (server-side dry run first)",
        "psa-migrate apply --plan migrations/prod --step 2",
    ),
    ex(
        "Step 3 without asking: bypass PSP admission in the migrated namespaces",
        "psa-migrate apply --plan migrations/prod --step 3 --yes",
    ),
];

pub const ROLLBACK: &[Example] = &[
    ex("Undo everything apply wrote, newest first", "psa-migrate rollback --plan migrations/prod"),
    ex(
        "Without asking, even where labels changed since",
        "psa-migrate rollback --plan migrations/prod --yes --force",
    ),
];

pub const FIX: &[Example] = &[
    ex(
        "Patches that make every workload of the manifests pass restricted",
        "psa-migrate fix -f manifests/ --level restricted --out fixes/",
    ),
    ex(
        "Patches for the live cluster, to each namespace's planned audit level",
        "psa-migrate fix --plan migrations/prod --out prod-fixes/",
    ),
];

pub const ADMIT: &[Example] = &[
    ex(
        "Which PSP a new Deployment would get, with the cluster's PSPs and RBAC from an export",
        "psa-migrate admit -f deploy.yaml --inventory export/",
    ),
    ex(
        "Why a bare pod created by a user is rejected",
        "psa-migrate admit -f pod.yaml --as alice@example.com --as-group ml-team",
    ),
    ex(
        "A workload of the live cluster, as another service account",
        "kubectl get deployment trainer -n ml -o yaml | psa-migrate admit -f - --service-account \
         trainer",
    ),
];

pub const SCHEMA: &[Example] = &[
    ex("List the documents and their schema versions", "psa-migrate schema --list"),
    ex("The schema of plan.json", "psa-migrate schema plan > plan.schema.json"),
];

pub const CUSTOM_RESOURCES: &[Example] = &[
    ex("The kinds whose pod templates are read", "psa-migrate custom-resources"),
    ex(
        "The same as a Markdown table",
        "psa-migrate custom-resources -o markdown > custom-resources.md",
    ),
];

pub const COMPLETIONS: &[Example] = &[
    ex(
        "Install bash completion for your user",
        "psa-migrate completions bash > ~/.local/share/bash-completion/completions/psa-migrate",
    ),
    ex(
        "Install fish completion",
        "psa-migrate completions fish > ~/.config/fish/completions/psa-migrate.fish",
    ),
];

pub const MAN: &[Example] = &[
    ex("Read the main page", "psa-migrate man | man -l -"),
    ex("Install a page per command", "psa-migrate man --out /usr/local/share/man/man1"),
];

/// The `Examples:` section of a command's help.
pub fn help(examples: &[Example]) -> String {
    let mut out = String::from("Examples:");
    for e in examples {
        out.push_str(&format!("\n  # {}\n  {}\n", e.about, e.line));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use crate::app::Cli;

    /// The `psa-migrate` commands of a shell line: each stage of a pipeline (or of `&&`, `;`)
    /// that runs it, without its redirection.
    fn commands(line: &str) -> Vec<Vec<&str>> {
        line.split(['|', ';', '&'])
            .map(|stage| stage.split('>').next().unwrap_or_default().split_whitespace().collect())
            .filter(|words: &Vec<&str>| words.first() == Some(&"psa-migrate"))
            .collect()
    }

    /// Every subcommand's help has two or three examples, and each parses with the real flags
    /// as that subcommand.
    #[test]
    fn every_example_parses() {
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            let help = sub.get_after_help().map(ToString::to_string).unwrap_or_default();
            let lines: Vec<&str> = help
                .lines()
                .skip_while(|l| *l != "Examples:")
                .skip(1)
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            assert!((2..=3).contains(&lines.len()), "{name}: {} examples:\n{help}", lines.len());
            for line in lines {
                assert!(!line.contains(['"', '\'']), "{name}: quotes in {line:?}");
                let cmds = commands(line);
                assert_eq!(cmds.len(), 1, "{name}: {line:?} runs psa-migrate once");
                assert_eq!(cmds[0].get(1), Some(&name), "{line:?}: the subcommand comes first");
                if let Err(e) = Cli::try_parse_from(&cmds[0]) {
                    panic!("{name}: {line:?} does not parse:\n{e}");
                }
            }
        }
    }

    #[test]
    fn commands_of_a_shell_line() {
        let line = "helm template ./chart | psa-migrate check -f - > out.txt";
        assert_eq!(commands(line), [["psa-migrate", "check", "-f", "-"]]);
        assert!(commands("kubectl get pods").is_empty());
    }
}
