//! The two libvirt calls the `virt` crate does not wrap: aborting a job and
//! switching a migration to post-copy.
#![allow(unsafe_code)] // reason: virt 0.5 exposes these only in virt::sys

use virt::domain::Domain;

use crate::libvirt::LibvirtError;

fn last_error() -> LibvirtError {
    LibvirtError::from(virt::error::Error::last_error())
}

/// Aborts the domain's current job (a migration), as `virsh domjobabort`.
pub fn abort_job(domain: &Domain) -> Result<(), LibvirtError> {
    // SAFETY: the pointer comes from a live `Domain` that outlives the call;
    // libvirt takes no ownership of it.
    let rc = unsafe { virt::sys::virDomainAbortJob(domain.as_ptr()) };
    if rc < 0 { Err(last_error()) } else { Ok(()) }
}

/// Switches a running migration to post-copy.
pub fn start_postcopy(domain: &Domain) -> Result<(), LibvirtError> {
    // SAFETY: as above; flags must be 0.
    let rc = unsafe { virt::sys::virDomainMigrateStartPostCopy(domain.as_ptr(), 0) };
    if rc < 0 { Err(last_error()) } else { Ok(()) }
}

/// The statistics of a domain's job that a move shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobProgress {
    /// libvirt's job type; `VIR_DOMAIN_JOB_NONE` when there is no job.
    pub kind: i32,
    pub processed: Option<u64>,
    pub remaining: Option<u64>,
    pub total: Option<u64>,
    pub memory_bps: Option<u64>,
    pub iteration: Option<u64>,
    pub disk_remaining: Option<u64>,
    pub disk_bps: Option<u64>,
    pub downtime: Option<u64>,
    /// What the job does (`VIR_DOMAIN_JOB_OPERATION_*`).
    pub operation: Option<i32>,
}

/// The domain's job statistics (`flags` 0 for the running job,
/// `VIR_DOMAIN_JOB_STATS_COMPLETED` for the last completed one).
///
/// virt 0.5's own `Domain::job_stats` builds a `Vec` from libvirt's
/// allocation, which is undefined behaviour when libvirt returns no
/// parameters (no job running); this reads them with libvirt's accessors
/// and frees them with libvirt's own function instead.
pub fn job_progress(domain: &Domain, flags: u32) -> Result<JobProgress, LibvirtError> {
    use virt::sys;
    let mut kind: std::os::raw::c_int = 0;
    let mut params: sys::virTypedParameterPtr = std::ptr::null_mut();
    let mut count: std::os::raw::c_int = 0;
    // SAFETY: out-pointers to locals; the domain pointer is live.
    let rc = unsafe {
        sys::virDomainGetJobStats(domain.as_ptr(), &mut kind, &mut params, &mut count, flags)
    };
    if rc < 0 {
        return Err(last_error());
    }
    let get = |name: &std::ffi::CStr| {
        let mut value: std::os::raw::c_ulonglong = 0;
        // SAFETY: `params` holds `count` entries allocated by libvirt (or is
        // null with count 0, which libvirt accepts); `name` is a C string.
        let found =
            unsafe { sys::virTypedParamsGetULLong(params, count, name.as_ptr(), &mut value) };
        (found == 1).then_some(value)
    };
    let progress = JobProgress {
        kind,
        processed: get(sys::VIR_DOMAIN_JOB_DATA_PROCESSED),
        remaining: get(sys::VIR_DOMAIN_JOB_DATA_REMAINING),
        total: get(sys::VIR_DOMAIN_JOB_DATA_TOTAL),
        memory_bps: get(sys::VIR_DOMAIN_JOB_MEMORY_BPS),
        iteration: get(sys::VIR_DOMAIN_JOB_MEMORY_ITERATION),
        disk_remaining: get(sys::VIR_DOMAIN_JOB_DISK_REMAINING),
        disk_bps: get(sys::VIR_DOMAIN_JOB_DISK_BPS),
        downtime: get(sys::VIR_DOMAIN_JOB_DOWNTIME),
        operation: {
            let mut value: std::os::raw::c_int = 0;
            let name = sys::VIR_DOMAIN_JOB_OPERATION;
            // SAFETY: as for `get` above.
            let found =
                unsafe { sys::virTypedParamsGetInt(params, count, name.as_ptr(), &mut value) };
            (found == 1).then_some(value)
        },
    };
    // SAFETY: frees what libvirt allocated above, exactly once.
    unsafe { sys::virTypedParamsFree(params, count) };
    Ok(progress)
}

/// The domain's state and reason, as libvirt's raw numbers.
pub fn state(domain: &Domain) -> Result<(i32, i32), LibvirtError> {
    let (mut state, mut reason): (std::os::raw::c_int, std::os::raw::c_int) = (0, 0);
    // SAFETY: out-pointers to locals; the domain pointer is live.
    let rc = unsafe { virt::sys::virDomainGetState(domain.as_ptr(), &mut state, &mut reason, 0) };
    if rc < 0 {
        Err(last_error())
    } else {
        Ok((state, reason))
    }
}

/// True when the domain takes part in a post-copy migration, failed or not
/// (the destination keeps saying "running (post-copy)" for a while after
/// the link failed).
pub fn in_postcopy(domain: &Domain) -> bool {
    use virt::sys;
    let postcopy = [
        (
            sys::VIR_DOMAIN_RUNNING as i32,
            sys::VIR_DOMAIN_RUNNING_POSTCOPY as i32,
        ),
        (
            sys::VIR_DOMAIN_RUNNING as i32,
            sys::VIR_DOMAIN_RUNNING_POSTCOPY_FAILED as i32,
        ),
        (
            sys::VIR_DOMAIN_PAUSED as i32,
            sys::VIR_DOMAIN_PAUSED_POSTCOPY as i32,
        ),
        (
            sys::VIR_DOMAIN_PAUSED as i32,
            sys::VIR_DOMAIN_PAUSED_POSTCOPY_FAILED as i32,
        ),
    ];
    state(domain).is_ok_and(|s| postcopy.contains(&s))
}

/// True when the domain is stuck in a post-copy migration that failed.
pub fn postcopy_failed(domain: &Domain) -> bool {
    use virt::sys;
    match state(domain) {
        Ok((s, r)) if s == sys::VIR_DOMAIN_PAUSED as i32 => {
            r == sys::VIR_DOMAIN_PAUSED_POSTCOPY_FAILED as i32
        }
        Ok((s, r)) if s == sys::VIR_DOMAIN_RUNNING as i32 => {
            r == sys::VIR_DOMAIN_RUNNING_POSTCOPY_FAILED as i32
        }
        _ => false,
    }
}

/// libvirt's comparison of a guest CPU with what the host's hypervisor can
/// provide (as `virsh hypervisor-cpu-compare`); `None` when it cannot say.
pub fn hypervisor_cpu_incompatible(
    conn: &virt::connect::Connect,
    arch: Option<&str>,
    machine: Option<&str>,
    virt_type: &str,
    cpu_xml: &str,
) -> Option<bool> {
    use std::ffi::CString;
    let arch = arch.and_then(|a| CString::new(a).ok());
    let machine = machine.and_then(|m| CString::new(m).ok());
    let virt_type = CString::new(virt_type).ok()?;
    let cpu = CString::new(cpu_xml).ok()?;
    let ptr = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is a live C string or null, as libvirt allows.
    let rc = unsafe {
        virt::sys::virConnectCompareHypervisorCPU(
            conn.as_ptr(),
            std::ptr::null(),
            ptr(&arch),
            ptr(&machine),
            virt_type.as_ptr(),
            cpu.as_ptr(),
            0,
        )
    };
    match rc {
        r if r == virt::sys::VIR_CPU_COMPARE_INCOMPATIBLE => Some(true),
        r if r > 0 => Some(false),
        _ => {
            // Clear libvirt's thread-local error so it is not reported later.
            let _ = last_error();
            None
        }
    }
}
