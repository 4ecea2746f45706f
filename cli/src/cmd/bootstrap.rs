//! `vmctl bootstrap [HOST...]`: set up mutual TLS between the admin and
//! every host, and between the hosts, over SSH. Prints per host what
//! changed (or would change) and a matrix of the checked TLS links.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use vmctl_core::bootstrap::{
    self, BootstrapError, BootstrapOptions, BootstrapReport, HostReport, Outcome,
};
use vmctl_pki::{Layout, Passphrase};

use super::Global;
use crate::exit::{Classify, Exit, Failure};
use crate::output::{self, Output};

/// Arguments of `vmctl bootstrap`.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// Hosts to bootstrap (default: every host in the inventory).
    hosts: Vec<String>,
    /// Record the SSH key of a host not yet in known_hosts (a changed key is
    /// still refused).
    #[arg(long)]
    accept_new_host_key: bool,
    /// Print the files and config lines that would change; touch nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `vmctl bootstrap`.
pub fn run(args: BootstrapArgs, global: &Global) -> Result<ExitCode, Failure> {
    let inventory = global.inventory()?;
    // Unknown names are bad input: refuse before anything else happens.
    bootstrap::plan(&inventory, &args.hosts).or_exit(Exit::Usage)?;
    let options = BootstrapOptions {
        hosts: args.hosts,
        accept_new_host_key: args.accept_new_host_key,
        dry_run: args.dry_run,
        passphrase: passphrase(&Layout::new(&inventory.pki.dir))?,
    };
    let runtime = tokio::runtime::Runtime::new()
        .context("could not start the async runtime")
        .or_exit(Exit::Failed)?;
    let report = runtime
        .block_on(bootstrap::bootstrap(&inventory, &options))
        .map_err(start_failure)?;

    let printed = match global.output {
        Output::Json => output::print_json(&report),
        Output::Human => output::print(&human(&report)),
    };
    printed
        .context("could not write the report")
        .or_exit(Exit::Failed)?;
    eprint!("{}", failures(&report));
    Ok(exit_code(&report))
}

/// The CA passphrase from `VMCTL_CA_PASSPHRASE`, or a prompt when the key
/// is encrypted.
fn passphrase(layout: &Layout) -> Result<Option<Passphrase>, Failure> {
    if let Ok(text) = std::env::var("VMCTL_CA_PASSPHRASE") {
        return Ok(Some(Passphrase::new(text)));
    }
    if !vmctl_pki::ca_key_is_encrypted(layout) {
        return Ok(None);
    }
    rpassword::prompt_password("CA passphrase: ")
        .map(|text| Some(Passphrase::new(text)))
        .context("could not read the passphrase")
        .or_exit(Exit::Usage)
}

/// A bootstrap that could not start: a CA that does not load or a host
/// whose address does not resolve is bad input.
fn start_failure(e: BootstrapError) -> Failure {
    let (exit, hint) = match &e {
        BootstrapError::LoadCa { source, .. } => super::pki::load_error_class(source),
        BootstrapError::Unresolvable { .. } => (
            Exit::Usage,
            Some("fix the host's address in the inventory, or its DNS entry"),
        ),
        _ => (Exit::Failed, None),
    };
    let failure = Failure::new(exit, e);
    match hint {
        Some(hint) => failure.hint(hint),
        None => failure,
    }
}

fn exit_code(report: &BootstrapReport) -> ExitCode {
    let failed = report.hosts.iter().filter(|h| h.outcome == Outcome::Failed);
    let mut code = ExitCode::SUCCESS;
    for host in failed {
        let unreachable = matches!(
            host.error_kind,
            Some("unreachable" | "login-refused" | "connection-lost")
        );
        code = if unreachable {
            Exit::Unreachable
        } else {
            Exit::Failed
        }
        .into();
    }
    if code == ExitCode::SUCCESS && !report.success() {
        code = Exit::Failed.into();
    }
    code
}

/// The per-host lines, the link matrix, and a closing sentence.
fn human(report: &BootstrapReport) -> String {
    let mut text = String::new();
    let verb = if report.dry_run { "would " } else { "" };
    if report.created_ca {
        let _ = writeln!(text, "{verb}create a new CA");
    }
    for issued in &report.issued {
        let _ = writeln!(text, "{verb}issue the {issued} certificate");
    }
    let width = report.hosts.iter().map(|h| h.host.len()).max().unwrap_or(0);
    for host in &report.hosts {
        text.push_str(&host_lines(host, width));
    }
    if !report.links.is_empty() {
        text.push_str(&matrix(report));
    }
    text.push_str(&closing(report));
    text
}

fn host_lines(host: &HostReport, width: usize) -> String {
    let state = match host.outcome {
        Outcome::Unchanged => "unchanged",
        Outcome::Changed => "changed, libvirt restarted",
        Outcome::WouldChange => "would change:",
        Outcome::Skipped => "skipped (never bootstrapped; nothing to join)",
        Outcome::Failed => "FAILED (see below)",
    };
    let mut text = format!("{:width$}  {state}\n", host.host);
    if matches!(host.outcome, Outcome::WouldChange | Outcome::Changed) {
        for file in &host.files {
            let _ = writeln!(text, "    {}", file.display());
        }
        for line in &host.config_lines {
            let _ = writeln!(text, "      + {line}");
        }
    }
    text
}

fn matrix(report: &BootstrapReport) -> String {
    let mut targets: Vec<&str> = Vec::new();
    let mut sources: Vec<&str> = Vec::new();
    for link in &report.links {
        if !targets.contains(&link.to.as_str()) {
            targets.push(&link.to);
        }
        if !sources.contains(&link.from.as_str()) {
            sources.push(&link.from);
        }
    }
    let width = sources
        .iter()
        .chain(&targets)
        .map(|s| s.len())
        .max()
        .unwrap_or(4)
        + 2;
    let mut text = format!("\nTLS links (row connects to column):\n{:width$}", "");
    for to in &targets {
        let _ = write!(text, "{to:width$}");
    }
    text.push('\n');
    for from in &sources {
        let _ = write!(text, "{from:width$}");
        for to in &targets {
            let link = report.links.iter().find(|l| l.from == *from && l.to == *to);
            let cell = link.map_or("-", |l| if l.ok { "ok" } else { "FAIL" });
            let _ = write!(text, "{cell:width$}");
        }
        text.push('\n');
    }
    text
}

fn closing(report: &BootstrapReport) -> String {
    if report.dry_run {
        return "\ndry run: nothing was changed\n".into();
    }
    if report.changed_nothing() && report.success() {
        return "\nnothing to change: every host already trusts the fleet; nothing was restarted\n"
            .into();
    }
    String::new()
}

/// Errors per failed host and per failed link, with hints, for stderr.
fn failures(report: &BootstrapReport) -> String {
    let mut text = String::new();
    for host in report.hosts.iter().filter(|h| h.outcome == Outcome::Failed) {
        let mut causes = host.error.iter();
        if let Some(first) = causes.next() {
            let _ = writeln!(text, "error: {first}");
        }
        for cause in causes {
            let _ = writeln!(text, "  caused by: {cause}");
        }
        if let Some(hint) = hint(host.error_kind) {
            let _ = writeln!(text, "  hint: {hint}");
        }
    }
    for link in report.links.iter().filter(|l| !l.ok) {
        let _ = writeln!(
            text,
            "error: {} could not reach {} over TLS: {}",
            link.from, link.to, link.detail
        );
    }
    text
}

fn hint(kind: Option<&str>) -> Option<&'static str> {
    Some(match kind? {
        "unknown-host-key" => {
            "check the fingerprint with the host's owner, then rerun with --accept-new-host-key"
        }
        "changed-host-key" => {
            "if the host was reinstalled, remove that line from known_hosts and rerun; otherwise treat it as an attack"
        }
        "clock-behind" => "set the host's clock (NTP), then rerun",
        "no-restart" => "set restart_command for the host in the inventory",
        "rolled-back" => {
            "the host keeps its previous config; check libvirtd's log on it, then rerun"
        }
        "restore-failed" => "log in to the host and restore the *.vmctl-backup-* files by hand",
        "connection-lost" => "run `vmctl bootstrap` again once the host answers over SSH",
        "unreachable" | "login-refused" => "check [ssh] in the inventory and that the host is up",
        _ => return None,
    })
}
