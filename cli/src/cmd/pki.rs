//! `vmctl pki ...`: create the CA, issue, list, validate, revoke and renew
//! certificates. The CA lives in the inventory's `pki.dir`.

mod validate;

use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use time::Duration;
use vmctl_core::inventory::Inventory;
use vmctl_pki::{
    Authority, CaOptions, Index, IssueError, IssueOutcome, KeyAlgorithm, Layout, LeafKind,
    LeafRequest, LoadError, MAX_VALIDITY_DAYS, Passphrase, Reuse, Subject,
};

use super::Global;
use crate::exit::{Classify, Exit, Failure};
use crate::output::{self, Output};

/// The `pki` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PkiCommand {
    /// Create the certificate authority.
    Init(InitArgs),
    /// Issue (or keep, if still good) a member's certificates.
    Issue(IssueArgs),
    /// List every issued certificate.
    List,
    /// Check certificate files the way libvirt and QEMU will.
    Validate(validate::ValidateArgs),
    /// Revoke a member's certificates and write a new CRL.
    Revoke { name: String },
    /// Reissue a member's certificates with the same names and a new key.
    Renew {
        name: String,
        /// Validity of the new certificates, in days (1 to 36500).
        #[arg(long, default_value_t = 365, value_parser = leaf_days())]
        validity_days: i64,
    },
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Organization (O) of the CA; default from the inventory.
    #[arg(long)]
    org: Option<String>,
    /// Common name (CN) of the CA.
    #[arg(long, default_value = "vmctl CA")]
    common_name: String,
    /// Key algorithm: ecdsa-p256, ecdsa-p384 or rsa-3072.
    #[arg(long, default_value = "ecdsa-p256")]
    algorithm: KeyAlgorithm,
    /// Validity of the CA certificate, in days (at most 36500).
    #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(i64).range(0..=MAX_VALIDITY_DAYS))]
    validity_days: i64,
    /// Encrypt the CA key with a passphrase (prompted, or `VMCTL_CA_PASSPHRASE`).
    #[arg(long)]
    encrypt: bool,
    /// Replace an existing CA; the old one is kept as a dated backup.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct IssueArgs {
    /// Member name: an inventory host, or any name for a client such as `admin`.
    name: String,
    /// Issue the server certificate.
    #[arg(long)]
    server: bool,
    /// Issue the client certificate.
    #[arg(long)]
    client: bool,
    /// Extra DNS name for the server certificate.
    #[arg(long = "dns", value_name = "NAME")]
    dns: Vec<String>,
    /// Extra IP address for the server certificate.
    #[arg(long = "ip", value_name = "ADDR")]
    ips: Vec<IpAddr>,
    /// Validity in days (1 to 36500).
    #[arg(long, default_value_t = 365, value_parser = leaf_days())]
    validity_days: i64,
    /// Always issue anew, even when the current certificate is still good.
    #[arg(long)]
    force: bool,
    /// Also install the client credentials as the admin's (`<pki.dir>/admin`).
    #[arg(long)]
    admin: bool,
}

/// Leaf validities: at least a day (a certificate of 0 days is expired
/// when issued), at most what an X.509 date holds comfortably.
fn leaf_days() -> clap::builder::RangedI64ValueParser<i64> {
    clap::value_parser!(i64).range(1..=MAX_VALIDITY_DAYS)
}

/// Runs a `pki` subcommand.
pub fn run(command: PkiCommand, global: &Global) -> Result<ExitCode, Failure> {
    let inventory = global.inventory()?;
    let layout = Layout::new(&inventory.pki.dir);
    match command {
        PkiCommand::Init(args) => init(&layout, &inventory, &args),
        PkiCommand::Issue(args) => issue(&layout, &inventory, &args, global.output),
        PkiCommand::List => list(&layout, global.output),
        PkiCommand::Validate(args) => validate::run(&layout, &inventory, &args, global.output),
        PkiCommand::Revoke { name } => revoke(&layout, &name),
        PkiCommand::Renew {
            name,
            validity_days,
        } => renew(&layout, &name, validity_days),
    }
}

fn init(layout: &Layout, inventory: &Inventory, args: &InitArgs) -> Result<ExitCode, Failure> {
    let passphrase = if args.encrypt {
        Some(new_passphrase()?)
    } else {
        env_passphrase()
    };
    let options = CaOptions {
        common_name: args.common_name.clone(),
        organization: args
            .org
            .clone()
            .unwrap_or_else(|| inventory.pki.organization.clone()),
        algorithm: args.algorithm,
        validity: Duration::days(args.validity_days),
        force: args.force,
    };
    Authority::init(layout, &options, passphrase.as_ref()).map_err(|e| {
        let exists = matches!(e, vmctl_pki::InitError::Exists { .. });
        let usage = exists || matches!(e, vmctl_pki::InitError::Validity { .. });
        let failure = Failure::new(if usage { Exit::Usage } else { Exit::Failed }, e);
        if exists {
            failure.hint("pass --force to replace it; the old CA is kept as a backup")
        } else {
            failure
        }
    })?;
    print_line(&format!("created CA in {}", layout.root().display()))
}

fn issue(
    layout: &Layout,
    inventory: &Inventory,
    args: &IssueArgs,
    out: Output,
) -> Result<ExitCode, Failure> {
    let ca = load_ca(layout)?;
    let host = inventory.hosts.get(&args.name);
    let kinds = match (args.server, args.client, host.is_some()) {
        (false, false, true) => vec![LeafKind::Server, LeafKind::Client],
        (false, false, false) => vec![LeafKind::Client],
        (server, client, _) => [(server, LeafKind::Server), (client, LeafKind::Client)]
            .into_iter()
            .filter_map(|(on, kind)| on.then_some(kind))
            .collect(),
    };
    let reuse = if args.force {
        Reuse::Never
    } else {
        Reuse::IfValidFor(Duration::days(30))
    };
    let mut entries = Vec::new();
    for kind in kinds {
        let request = leaf_request(inventory, args, kind);
        let outcome = ca.issue(&request, reuse).map_err(issue_failure)?;
        entries.push(outcome_line(&outcome));
        if args.admin && kind == LeafKind::Client {
            ca.install_admin(&args.name).or_exit(Exit::Failed)?;
        }
    }
    match out {
        Output::Json => output::print_json(&entries).or_exit(Exit::Failed)?,
        Output::Human => output::print(
            &entries
                .iter()
                .map(|e| format!("{}\n", e.summary))
                .collect::<String>(),
        )
        .or_exit(Exit::Failed)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A request vmctl refuses is bad input; the rest failed to happen.
fn issue_failure(e: IssueError) -> Failure {
    match e {
        IssueError::InvalidName { .. }
        | IssueError::Validity { .. }
        | IssueError::DnsName { .. } => Failure::new(Exit::Usage, e),
        _ => Failure::new(Exit::Failed, e),
    }
}

#[derive(serde::Serialize)]
struct Outcome {
    reused: bool,
    certificate: vmctl_pki::IndexEntry,
    #[serde(skip)]
    summary: String,
}

fn outcome_line(outcome: &IssueOutcome) -> Outcome {
    let entry = outcome.entry();
    let reused = matches!(outcome, IssueOutcome::Reused(_));
    let verb = if reused { "kept" } else { "issued" };
    let summary = format!(
        "{verb} {} certificate of {} (serial {}, expires {})",
        entry.kind.name(),
        entry.name,
        entry.serial,
        entry.not_after.date()
    );
    Outcome {
        reused,
        certificate: entry.clone(),
        summary,
    }
}

/// The request for `kind`: names from the inventory host, if any, plus the flags.
fn leaf_request(inventory: &Inventory, args: &IssueArgs, kind: LeafKind) -> LeafRequest {
    let host = inventory.hosts.get(&args.name);
    let mut dns_names = host.map(|h| h.certificate_dns_names()).unwrap_or_default();
    let mut ips = host.map(|h| h.certificate_ips()).unwrap_or_default();
    dns_names.extend(args.dns.iter().cloned());
    ips.extend(args.ips.iter().copied());
    LeafRequest {
        dns_names,
        ips,
        subject: Subject {
            country: inventory.pki.country.clone(),
            organization: Some(inventory.pki.organization.clone()),
        },
        validity: Duration::days(args.validity_days),
        ..LeafRequest::new(args.name.clone(), kind)
    }
}

fn list(layout: &Layout, out: Output) -> Result<ExitCode, Failure> {
    let index = Index::read(layout).or_exit(Exit::Failed)?;
    if out == Output::Json {
        output::print_json(&index.certificates).or_exit(Exit::Failed)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = format!(
        "{:<16} {:<7} {:<10} {:<34} {}\n",
        "NAME", "KIND", "EXPIRES", "SERIAL", "NAMES"
    );
    for e in &index.certificates {
        let state = if e.revoked_at.is_some() {
            " (revoked)"
        } else {
            ""
        };
        let names: Vec<String> = e
            .dns_names
            .iter()
            .cloned()
            .chain(e.ips.iter().map(ToString::to_string))
            .collect();
        text.push_str(&format!(
            "{:<16} {:<7} {:<10} {:<34} {}{state}\n",
            e.name,
            e.kind.name(),
            e.not_after.date(),
            e.serial,
            names.join(",")
        ));
    }
    output::print(&text).or_exit(Exit::Failed)?;
    Ok(ExitCode::SUCCESS)
}

fn revoke(layout: &Layout, name: &str) -> Result<ExitCode, Failure> {
    let revoked = load_ca(layout)?.revoke(name).map_err(|e| {
        Failure::new(Exit::Failed, e).hint("see issued names with `vmctl pki list`")
    })?;
    print_line(&format!(
        "revoked {} certificate(s) of {name}; the CRL is {}",
        revoked.len(),
        layout.crl().display()
    ))
}

fn renew(layout: &Layout, name: &str, validity_days: i64) -> Result<ExitCode, Failure> {
    let renewed = load_ca(layout)?
        .renew(name, Duration::days(validity_days))
        .map_err(issue_failure)?;
    let kinds: Vec<&str> = renewed.iter().map(|e| e.kind.name()).collect();
    print_line(&format!(
        "renewed the {} certificate(s) of {name}",
        kinds.join(" and ")
    ))
}

fn print_line(line: &str) -> Result<ExitCode, Failure> {
    output::print(&format!("{line}\n")).or_exit(Exit::Failed)?;
    Ok(ExitCode::SUCCESS)
}

/// Loads the CA, asking for the passphrase when the key is encrypted.
fn load_ca(layout: &Layout) -> Result<Authority, Failure> {
    let passphrase = match env_passphrase() {
        Some(p) => Some(p),
        None if vmctl_pki::ca_key_is_encrypted(layout) => Some(prompt("CA passphrase: ")?),
        None => None,
    };
    Authority::load(layout, passphrase.as_ref()).map_err(|e| {
        let (exit, hint) = load_error_class(&e);
        let failure = Failure::new(exit, e);
        match hint {
            Some(hint) => failure.hint(hint),
            None => failure,
        }
    })
}

/// How a CA that does not load is reported: a wrong passphrase or a CA
/// past its dates is bad input the user can fix.
pub(super) fn load_error_class(e: &LoadError) -> (Exit, Option<&'static str>) {
    use vmctl_pki::KeyFileError::{PassphraseRequired, WrongPassphrase};
    match e {
        LoadError::Read { .. } => (Exit::Failed, Some("create the CA with `vmctl pki init`")),
        LoadError::Key {
            source: WrongPassphrase | PassphraseRequired,
            ..
        } => (
            Exit::Usage,
            Some("give the passphrase the CA was created with (VMCTL_CA_PASSPHRASE or the prompt)"),
        ),
        LoadError::Expired { .. } | LoadError::NotYetValid { .. } => (
            Exit::Usage,
            Some("create a new CA with `vmctl pki init --force`, then run `vmctl bootstrap`"),
        ),
        _ => (Exit::Failed, None),
    }
}

fn env_passphrase() -> Option<Passphrase> {
    std::env::var("VMCTL_CA_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Passphrase::new)
}

fn new_passphrase() -> Result<Passphrase, Failure> {
    if let Some(p) = env_passphrase() {
        return Ok(p);
    }
    let first = zeroize::Zeroizing::new(
        rpassword::prompt_password("new CA passphrase: ")
            .context("could not read the passphrase")
            .or_exit(Exit::Usage)?,
    );
    let second = zeroize::Zeroizing::new(
        rpassword::prompt_password("again: ")
            .context("could not read the passphrase")
            .or_exit(Exit::Usage)?,
    );
    if first.is_empty() || *first != *second {
        return Err(Failure::new(
            Exit::Usage,
            anyhow::anyhow!("the passphrases are empty or differ"),
        ));
    }
    Ok(Passphrase::new(first.to_string()))
}

fn prompt(text: &str) -> Result<Passphrase, Failure> {
    rpassword::prompt_password(text)
        .map(Passphrase::new)
        .context("could not read the passphrase")
        .map_err(|e| {
            Failure::new(Exit::Usage, e)
                .hint("set VMCTL_CA_PASSPHRASE when no terminal is attached")
        })
}
