//! `vmctl pki validate`: which files to check, and how findings are shown.

use std::path::PathBuf;
use std::process::ExitCode;

use time::Duration;
use vmctl_core::inventory::Inventory;
use vmctl_pki::validate::{FileSet, Finding, Severity, ValidateOptions, has_errors, validate};
use vmctl_pki::{Index, Layout};

use crate::exit::{Classify, Exit, Failure};
use crate::output::{self, Output};

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// A directory to check: QEMU's, a root holding `etc/pki`, or a `?pkipath=` dir.
    #[arg(long, conflicts_with = "host")]
    dir: Option<PathBuf>,
    /// A member whose issued files to check (default: every member).
    #[arg(long)]
    host: Option<String>,
    /// A name clients dial the server by; repeatable. Default: the host's
    /// address and names from the inventory.
    #[arg(long = "server-name", value_name = "NAME")]
    server_names: Vec<String>,
    /// Warn about certificates expiring within this time, e.g. `30d` or `12h`.
    #[arg(long, default_value = "30d", value_parser = parse_horizon)]
    expiring_within: Duration,
}

/// Runs the validation and exits 4 when any finding is an error.
pub fn run(
    layout: &Layout,
    inventory: &Inventory,
    args: &ValidateArgs,
    out: Output,
) -> Result<ExitCode, Failure> {
    let mut findings = Vec::new();
    for (set, server_names) in file_sets(layout, inventory, args)? {
        let options = ValidateOptions {
            horizon: args.expiring_within,
            server_names,
            ..ValidateOptions::default()
        };
        findings.extend(validate(&set, &options));
    }
    match out {
        Output::Json => output::print_json(&findings),
        Output::Human => output::print(&human(&findings)),
    }
    .or_exit(Exit::Failed)?;
    Ok(if has_errors(&findings) {
        Exit::Invalid.into()
    } else {
        ExitCode::SUCCESS
    })
}

fn file_sets(
    layout: &Layout,
    inventory: &Inventory,
    args: &ValidateArgs,
) -> Result<Vec<(FileSet, Vec<String>)>, Failure> {
    if let Some(dir) = &args.dir {
        return Ok(vec![(FileSet::detect(dir), args.server_names.clone())]);
    }
    if !layout.ca_cert().exists() {
        return Err(no_ca(layout));
    }
    let names = match &args.host {
        Some(name) => vec![name.clone()],
        None => Index::read(layout).or_exit(Exit::Failed)?.names(),
    };
    if names.is_empty() {
        // Nothing issued yet: the CA alone, so a missing one is a finding.
        return Ok(vec![(FileSet::authority(layout), Vec::new())]);
    }
    if let Some(name) = &args.host
        && FileSet::member(layout, name).leaves.is_empty()
    {
        return Err(not_issued(layout, name));
    }
    Ok(names
        .into_iter()
        .map(|name| {
            let dialled = if args.server_names.is_empty() {
                default_server_names(inventory, &name)
            } else {
                args.server_names.clone()
            };
            (FileSet::member(layout, &name), dialled)
        })
        .collect())
}

fn no_ca(layout: &Layout) -> Failure {
    Failure::new(
        Exit::Invalid,
        anyhow::anyhow!(
            "no CA in {}: {} does not exist",
            layout.root().display(),
            layout.ca_cert().display()
        ),
    )
    .hint("create the CA with `vmctl pki init`, or set pki.dir to the PKI directory")
}

fn not_issued(layout: &Layout, name: &str) -> Failure {
    let dir = layout.issued_dir(name);
    Failure::new(
        Exit::Usage,
        anyhow::anyhow!(
            "no certificates were issued to {name} (nothing in {})",
            dir.display()
        ),
    )
    .hint("`vmctl pki list` shows the issued names")
}

/// The names clients dial an inventory host by; none for other members.
fn default_server_names(inventory: &Inventory, name: &str) -> Vec<String> {
    let Some(host) = inventory.hosts.get(name) else {
        return Vec::new();
    };
    let mut names = host.certificate_dns_names();
    names.extend(host.certificate_ips().iter().map(ToString::to_string));
    names
}

fn human(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "all certificate files are valid\n".into();
    }
    let mut text = String::new();
    for f in findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        text.push_str(&format!(
            "{level}: {}: {:?}: {}\n  fix: {}\n",
            f.file.display(),
            f.check,
            f.message,
            f.fix
        ));
    }
    text
}

/// Parses `30d`, `12h` or a plain number of days.
fn parse_horizon(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix('d') {
        Some(n) => (n, Duration::DAY),
        None => match text.strip_suffix('h') {
            Some(n) => (n, Duration::HOUR),
            None => (text, Duration::DAY),
        },
    };
    let count: i32 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like `30d` or `12h`"))?;
    Ok(unit * count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_parse() {
        assert_eq!(parse_horizon("30d").unwrap(), Duration::days(30));
        assert_eq!(parse_horizon("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_horizon("7").unwrap(), Duration::days(7));
        assert!(parse_horizon("soon").is_err());
    }
}
