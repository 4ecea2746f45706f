//! `vmctl create`, `start`, `stop`, `reboot` and `destroy`: one guest's
//! life on one host.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use vmctl_core::guest::{
    CreateError, CreateOutcome, CreateRequest, PowerAction, PowerError, PowerOutcome, Size,
    StopOptions, VirtType, create, power, stop,
};
use vmctl_core::libvirt::GuestRef;

use super::Global;
use super::fleet::{FleetArgs, block_on, connect_failure, fleet, kib, locate_failure, with_hint};
use crate::exit::{Classify, Exit, Failure};
use crate::output::{self, Output};

/// `vmctl create` arguments.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The new guest's name, unused anywhere in the fleet.
    guest: String,
    /// The host to create it on.
    #[arg(long)]
    host: String,
    /// vCPUs at start.
    #[arg(long, default_value_t = 1)]
    vcpus: u32,
    /// Memory at start (512M, 2G, 1GiB; a bare number is MiB).
    #[arg(long, default_value = "512M", value_name = "SIZE")]
    memory: Size,
    /// Size of its qcow2 disk in the host's storage pool (sparse).
    #[arg(
        long,
        default_value = "10G",
        value_name = "SIZE",
        conflicts_with = "xml"
    )]
    disk: Size,
    /// vCPUs it can grow to while running (default: --vcpus).
    #[arg(long, value_name = "N", conflicts_with = "xml")]
    max_vcpus: Option<u32>,
    /// Memory it can grow to while running (default: --memory).
    #[arg(long, value_name = "SIZE", conflicts_with = "xml")]
    max_memory: Option<Size>,
    /// Define the guest from this domain XML instead (no disk is made).
    #[arg(long, value_name = "FILE")]
    xml: Option<PathBuf>,
    /// kvm or qemu (TCG); default kvm when the host offers it.
    #[arg(long, value_enum, conflicts_with = "xml")]
    virt_type: Option<VirtTypeArg>,
    /// Define it but do not start it.
    #[arg(long)]
    no_start: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// `--virt-type`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum VirtTypeArg {
    Kvm,
    Qemu,
}

/// `vmctl start|reboot|destroy` arguments.
#[derive(Debug, clap::Args)]
pub struct PowerArgs {
    /// GUEST, or GUEST@HOST when the name is on several hosts.
    guest: GuestRef,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// `vmctl stop` arguments.
#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// GUEST, or GUEST@HOST.
    guest: GuestRef,
    /// Seconds the guest gets to shut down.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    timeout: u64,
    /// Power it off if it has not shut down in time.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Runs `vmctl create`.
pub fn run_create(args: CreateArgs, global: &Global) -> Result<ExitCode, Failure> {
    let xml = args.xml.as_deref().map(read_xml).transpose()?;
    let request = CreateRequest {
        name: args.guest.clone(),
        host: args.host.clone(),
        vcpus: args.vcpus,
        max_vcpus: args.max_vcpus,
        memory: args.memory,
        max_memory: args.max_memory,
        disk: xml.is_none().then_some(args.disk),
        xml,
        virt_type: args.virt_type.map(|v| match v {
            VirtTypeArg::Kvm => VirtType::Kvm,
            VirtTypeArg::Qemu => VirtType::Qemu,
        }),
        start: !args.no_start,
    };
    request.validate().map_err(create_failure)?;
    let (_, fleet) = fleet(global, &args.fleet)?;
    let outcome = block_on(create(&fleet, request))?.map_err(create_failure)?;
    print_created(&outcome, global.output)
}

/// The text of `--xml FILE`; a file that cannot be read or is not XML is
/// bad input, named with its path.
fn read_xml(path: &std::path::Path) -> Result<String, Failure> {
    let bad = |e: anyhow::Error| Failure::new(Exit::Usage, e.context(path.display().to_string()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.into()))?;
    vmctl_core::guest::parse_facts(&text).map_err(|e| bad(e.into()))?;
    Ok(text)
}

fn print_created(o: &CreateOutcome, format: Output) -> Result<ExitCode, Failure> {
    match format {
        Output::Json => output::print_json(o),
        Output::Human => output::print(&created_line(o)),
    }
    .or_exit(Exit::Failed)?;
    Ok(ExitCode::SUCCESS)
}

/// What was created, from the definition libvirt took; the running
/// guest's memory too when it is not yet the defined one.
fn created_line(o: &CreateOutcome) -> String {
    let f = &o.facts;
    let disks = match f.disks.as_slice() {
        [] => "disk none".to_owned(),
        [one] => format!("disk {one}"),
        many => format!("disks {}", many.join(", ")),
    };
    let state = match (o.started, o.live_memory_kib) {
        (false, _) => "not started".to_owned(),
        (true, None) => "running".to_owned(),
        (true, Some(live)) => format!(
            "running with {} until its balloon driver takes it to {}",
            kib(live),
            kib(f.memory_kib)
        ),
    };
    format!(
        "created {} on {}: {} vCPUs (max {}), {} (max {}), {disks}, {state}\n",
        o.guest,
        o.host,
        f.vcpus,
        f.max_vcpus,
        kib(f.memory_kib),
        kib(f.max_memory_kib),
    )
}

fn create_failure(e: CreateError) -> Failure {
    match e {
        CreateError::Connect(e) => connect_failure(e),
        CreateError::Invalid { .. } | CreateError::NameTaken { .. } => Failure::new(Exit::Usage, e),
        CreateError::Unchecked { .. } => Failure::new(Exit::Unreachable, e)
            .hint("names must be unique across the fleet; retry when every host answers"),
        CreateError::Query(q) => {
            let hint = q.hint();
            with_hint(Failure::new(Exit::Failed, q), hint)
        }
        _ => Failure::new(Exit::Failed, e),
    }
}

/// Runs `vmctl start`, `reboot` or `destroy`.
pub fn run_power(
    args: PowerArgs,
    action: PowerAction,
    global: &Global,
) -> Result<ExitCode, Failure> {
    let (_, fleet) = fleet(global, &args.fleet)?;
    let outcome = block_on(power(&fleet, &args.guest, action))?.map_err(power_failure)?;
    print_power(&outcome, global.output)
}

/// Runs `vmctl stop`.
pub fn run_stop(args: StopArgs, global: &Global) -> Result<ExitCode, Failure> {
    let (_, fleet) = fleet(global, &args.fleet)?;
    let options = StopOptions {
        timeout: Duration::from_secs(args.timeout),
        force: args.force,
    };
    let outcome = block_on(stop(&fleet, &args.guest, options))?.map_err(power_failure)?;
    print_power(&outcome, global.output)
}

fn print_power(o: &PowerOutcome, format: Output) -> Result<ExitCode, Failure> {
    let what = match (o.action, o.unchanged, o.forced) {
        (PowerAction::Start, true, _) => "was already running",
        (PowerAction::Stop | PowerAction::Destroy, true, _) => "was not running",
        (PowerAction::Stop, false, true) => "did not shut down in time; powered off",
        (PowerAction::Start, ..) => "started",
        (PowerAction::Stop, ..) => "shut down",
        (PowerAction::Reboot, ..) => "rebooting",
        (PowerAction::Destroy, ..) => "powered off",
    };
    match format {
        Output::Json => output::print_json(o),
        Output::Human => output::print(&format!("{} on {}: {what}\n", o.guest, o.host)),
    }
    .or_exit(Exit::Failed)?;
    Ok(ExitCode::SUCCESS)
}

fn power_failure(e: PowerError) -> Failure {
    let hint = e.hint();
    match e {
        PowerError::Locate(e) => locate_failure(e),
        PowerError::NotRunning { .. } => Failure::new(Exit::Usage, e),
        _ => with_hint(Failure::new(Exit::Failed, e), hint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmctl_core::guest::DomainFacts;

    fn outcome(disks: &[&str], live_memory_kib: Option<u64>) -> CreateOutcome {
        CreateOutcome {
            guest: "g1".into(),
            host: "h1".into(),
            volume: None,
            started: true,
            facts: DomainFacts {
                name: "g1".into(),
                vcpus: 1,
                max_vcpus: 1,
                memory_kib: 131_072,
                max_memory_kib: 262_144,
                disks: disks.iter().map(|d| d.to_string()).collect(),
            },
            live_memory_kib,
        }
    }

    #[test]
    fn created_guest_shows_its_defined_memory_below_the_maximum() {
        let line = created_line(&outcome(&[], Some(262_144)));
        assert!(line.contains("128MiB (max 256MiB)"), "{line}");
        assert!(
            line.contains("running with 256MiB until its balloon driver takes it to 128MiB"),
            "{line}"
        );
    }

    #[test]
    fn created_guest_from_xml_shows_the_disks_of_its_definition() {
        let line = created_line(&outcome(&["/srv/a.qcow2"], None));
        assert!(line.contains("disk /srv/a.qcow2, running"), "{line}");
        let line = created_line(&outcome(&["/srv/a.qcow2", "/dev/vg/b"], None));
        assert!(line.contains("disks /srv/a.qcow2, /dev/vg/b"), "{line}");
    }
}
