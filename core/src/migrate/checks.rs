//! Every check a move passes before anything moves.

use std::path::Path;

use virt::domain::Domain;

use crate::libvirt::{Fleet, HostConnection};

use super::disks::Disk;
use super::error::PlanError;
use super::facts::{DestFacts, DiskPresence, GuestFacts, dest_facts, guest_facts};
use super::request::{Mode, MoveRequest};

/// A move that passed its checks: what will move, how, and what was checked.
#[derive(Debug, Clone)]
pub struct MovePlan {
    pub request: MoveRequest,
    pub guest: String,
    pub source: String,
    pub dest: String,
    /// What the source daemon dials (with its own client certificate).
    pub dest_uri: String,
    pub memory_mib: u64,
    pub vcpus: u32,
    /// Free memory on the destination when checked, in MiB.
    pub dest_free_mib: u64,
    /// Disks the move copies to the destination.
    pub copy: Vec<Disk>,
    /// One line per check passed, for `--dry-run`.
    pub checks: Vec<String>,
    pub(crate) dest_conn: HostConnection,
    pub(crate) domain: Domain,
}

/// Checks `request` against the fleet; the first failed check is the error.
pub async fn plan_move(fleet: &Fleet, request: &MoveRequest) -> Result<MovePlan, PlanError> {
    let located = fleet.locate(&request.guest).await?;
    let (guest, source) = (located.guest.clone(), located.conn.host().to_owned());
    let dest_target = fleet
        .target(&request.dest)
        .map_err(PlanError::Dest)?
        .clone();
    if source == dest_target.name {
        return Err(PlanError::SameHost {
            guest,
            host: source,
        });
    }
    let dest_conn = fleet
        .connect(&dest_target.name)
        .await
        .map_err(PlanError::Dest)?;

    let (g, d) = (guest.clone(), located.domain.clone());
    let facts = located.conn.run(move |c| guest_facts(c, &g, &d)).await?;
    let (g, f) = (guest.clone(), facts.clone());
    let dest = dest_conn.run(move |c| dest_facts(c, &g, &f)).await?;

    if facts.job_running {
        return Err(PlanError::JobRunning {
            guest,
            host: source,
        });
    }
    let mut checks = vec![format!(
        "{guest} found once, on {source}, with no job running"
    )];
    check_mode(request, &guest, &facts, &mut checks)?;
    check_room(
        &guest,
        &dest_target.name,
        &facts,
        &dest,
        request.mode(),
        &mut checks,
    )?;
    let copy = check_disks(request, &guest, &dest_target.name, &dest, &mut checks)?;
    check_tls(request, fleet, &source, &dest_target.name, &mut checks);

    Ok(MovePlan {
        request: request.clone(),
        guest,
        source,
        dest: dest_target.name.clone(),
        dest_uri: format!("qemu+tls://{}/system", dest_target.address),
        memory_mib: facts.memory_mib,
        vcpus: facts.vcpus,
        dest_free_mib: dest.free_mib,
        copy,
        checks,
        dest_conn,
        domain: located.domain,
    })
}

fn check_mode(
    r: &MoveRequest,
    guest: &str,
    f: &GuestFacts,
    checks: &mut Vec<String>,
) -> Result<(), PlanError> {
    let line = match (r.mode(), f.active) {
        (Mode::Live, false) => {
            return Err(PlanError::NotRunning {
                guest: guest.into(),
            });
        }
        (Mode::Offline, true) => {
            return Err(PlanError::Running {
                guest: guest.into(),
            });
        }
        (Mode::Live, true) => format!("{guest} is running: live move"),
        (Mode::Offline, false) => format!("{guest} is shut off: offline move"),
    };
    checks.push(line);
    Ok(())
}

fn check_room(
    guest: &str,
    dest: &str,
    f: &GuestFacts,
    d: &DestFacts,
    mode: Mode,
    checks: &mut Vec<String>,
) -> Result<(), PlanError> {
    let (g, h) = (guest.to_owned(), dest.to_owned());
    if d.name_taken {
        return Err(PlanError::NameTaken { guest: g, dest: h });
    }
    if let Some(other) = &d.uuid_owner {
        return Err(PlanError::UuidTaken {
            guest: g,
            dest: h,
            other: other.clone(),
            uuid: f.uuid.clone(),
        });
    }
    checks.push(format!("no guest named {guest} or with its UUID on {dest}"));
    if mode == Mode::Live && d.free_mib < f.memory_mib {
        return Err(PlanError::Memory {
            guest: g,
            dest: h,
            need_mib: f.memory_mib,
            free_mib: d.free_mib,
        });
    }
    if d.cpus < f.vcpus {
        return Err(PlanError::Cpus {
            guest: g,
            dest: h,
            vcpus: f.vcpus,
            cpus: d.cpus,
        });
    }
    checks.push(format!(
        "{dest} has {} MiB free and {} CPUs; {guest} needs {} MiB and {} vCPUs",
        d.free_mib, d.cpus, f.memory_mib, f.vcpus
    ));
    if let Some(detail) = &d.cpu_incompatible {
        return Err(PlanError::Cpu {
            guest: g,
            dest: h,
            detail: detail.clone(),
        });
    }
    checks.push(match &f.cpu_xml {
        Some(_) if f.virt_type == "kvm" && f.cpu_incompatible_on_source => format!(
            "{guest}'s CPU: libvirt's comparison fails on its own host too, so it cannot judge {dest}"
        ),
        Some(_) if f.virt_type == "kvm" => format!("{guest}'s CPU model is usable on {dest}"),
        _ => format!("{guest} uses no host-specific CPU model"),
    });
    Ok(())
}

fn check_disks(
    r: &MoveRequest,
    guest: &str,
    dest: &str,
    d: &DestFacts,
    checks: &mut Vec<String>,
) -> Result<Vec<Disk>, PlanError> {
    let mut copy = Vec::new();
    for (disk, presence) in &d.disks {
        let missing = || {
            (
                guest.to_owned(),
                dest.to_owned(),
                disk.target.clone(),
                disk.path.clone(),
            )
        };
        match (disk.readonly, presence, r.copy_storage && !r.offline) {
            (true, DiskPresence::Missing, _) => {
                let (guest, dest, target, path) = missing();
                return Err(PlanError::ReadonlyDiskMissing {
                    guest,
                    dest,
                    target,
                    path,
                });
            }
            (true, _, _) | (false, DiskPresence::Present, false) => {
                checks.push(format!("disk {} ({}) is on {dest}", disk.target, disk.path));
            }
            (false, DiskPresence::Present, true) => {
                let (guest, dest, target, path) = missing();
                return Err(PlanError::DiskExists {
                    guest,
                    dest,
                    target,
                    path,
                });
            }
            (false, _, true) => {
                checks.push(format!(
                    "disk {} ({}) will be copied to {dest}",
                    disk.target, disk.path
                ));
                copy.push(disk.clone());
            }
            (false, DiskPresence::Missing, false) if r.offline => {
                return Err(PlanError::OfflineWithDisks {
                    guest: guest.into(),
                });
            }
            (false, DiskPresence::Missing, false) => {
                let (guest, dest, target, path) = missing();
                return Err(PlanError::DiskMissing {
                    guest,
                    dest,
                    target,
                    path,
                });
            }
            (false, DiskPresence::Unknown, false) => checks.push(format!(
                "disk {} ({}): no pool on {dest} covers it; libvirt will check it is shared",
                disk.target, disk.path
            )),
        }
    }
    Ok(copy)
}

fn check_tls(r: &MoveRequest, fleet: &Fleet, source: &str, dest: &str, checks: &mut Vec<String>) {
    if !r.tls || r.offline {
        return;
    }
    // The admin's credentials sit in <pki.dir>/admin; issued ones beside it.
    let issued = fleet
        .pki_path()
        .parent()
        .unwrap_or(Path::new("."))
        .join("issued");
    for host in [source, dest] {
        let server = issued.join(host).join("servercert.pem");
        if server.exists() {
            checks.push(format!("{host} was issued QEMU's TLS certificates"));
        } else {
            // TODO(#6): ask the host itself whether /etc/pki/qemu is complete.
            tracing::warn!(
                host,
                "no certificate issued for this host in the PKI directory; --tls may fail"
            );
        }
    }
}
