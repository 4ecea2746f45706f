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
    };
    // SAFETY: frees what libvirt allocated above, exactly once.
    unsafe { sys::virTypedParamsFree(params, count) };
    Ok(progress)
}
