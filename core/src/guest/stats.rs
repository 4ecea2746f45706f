//! Every guest of one host with its state, vCPUs, memory and disks in one
//! round trip: libvirt's `virConnectGetAllDomainStats` with the state,
//! vCPU, balloon and block groups, which libvirt fills from the definition
//! for shut-off guests too.
//!
//! virt 0.5 exposes the call only in `virt::sys` (its `DomainStatsRecord`
//! reads nothing and is never freed), so this module makes the call itself,
//! reads the records with libvirt's typed-parameter accessors and frees
//! them with libvirt's own function.
#![allow(unsafe_code)] // reason: virt 0.5 exposes this call only in virt::sys

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_uint};

use virt::connect::Connect;
use virt::sys;

use super::xml::DomainFacts;
use crate::libvirt::LibvirtError;

/// The statistic groups a listing needs. For a shut-off guest libvirt
/// reads them all from its definition; for a running one it also asks QEMU
/// for figures a listing does not show, within the same call.
const GROUPS: c_uint = sys::VIR_DOMAIN_STATS_STATE
    | sys::VIR_DOMAIN_STATS_VCPU
    | sys::VIR_DOMAIN_STATS_BALLOON
    | sys::VIR_DOMAIN_STATS_BLOCK;

/// A guest busy with a job (a move) is not waited for: what a listing
/// shows comes from its definition. A host that cannot report a group is
/// an error rather than a guest with zero vCPUs.
const FLAGS: c_uint = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT
    | sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS;

/// One guest as its statistics describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GuestStats {
    /// libvirt's state number (`virDomainState`).
    pub state: sys::virDomainState,
    /// Name, vCPUs, memory and disk paths.
    pub facts: DomainFacts,
}

/// The guests on `conn` that `filter` selects
/// (`VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE`, `_PERSISTENT`, ...), in
/// one call.
pub(crate) fn guest_stats(conn: &Connect, filter: c_uint) -> Result<Vec<GuestStats>, LibvirtError> {
    let mut records: *mut sys::virDomainStatsRecordPtr = std::ptr::null_mut();
    // SAFETY: the connection pointer is live for the call; `records` is an
    // out-pointer to a local that libvirt fills with a list it allocates.
    let n = unsafe {
        sys::virConnectGetAllDomainStats(conn.as_ptr(), GROUPS, &mut records, filter | FLAGS)
    };
    if n < 0 {
        return Err(LibvirtError::from(virt::error::Error::last_error()));
    }
    let list = RecordList {
        ptr: records,
        len: n as usize,
    };
    list.records().map(read_record).collect()
}

/// The `len` records libvirt returned (a NULL-terminated array), freed on
/// drop.
struct RecordList {
    ptr: *mut sys::virDomainStatsRecordPtr,
    len: usize,
}

impl RecordList {
    fn records(&self) -> impl Iterator<Item = &sys::virDomainStatsRecord> {
        // SAFETY: the array holds `len` non-NULL records, each live until
        // the list is freed, which this borrow of `self` rules out.
        (0..self.len).map(|i| unsafe { &**self.ptr.add(i) })
    }
}

/// One record: its domain's name and statistics.
fn read_record(record: &sys::virDomainStatsRecord) -> Result<GuestStats, LibvirtError> {
    // SAFETY: the record's domain is live while the record is; its name,
    // if any, is a C string libvirt owns for as long, copied out below.
    let name = unsafe { sys::virDomainGetName(record.dom) };
    if name.is_null() {
        return Err(LibvirtError::from(virt::error::Error::last_error()));
    }
    // SAFETY: as above.
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    let params = Params {
        ptr: record.params,
        len: record.nparams,
    };
    read_guest(&name, &params)
}

impl Drop for RecordList {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: the list came from virConnectGetAllDomainStats and is
            // freed once, with its records, domains and parameters.
            unsafe { sys::virDomainStatsRecordListFree(self.ptr) };
        }
    }
}

/// Named statistics of one guest.
trait Stats {
    fn int(&self, name: &CStr) -> Option<i32>;
    fn uint(&self, name: &CStr) -> Option<u32>;
    fn ullong(&self, name: &CStr) -> Option<u64>;
    fn string(&self, name: &CStr) -> Option<String>;
}

/// A record's typed parameters, read with libvirt's accessors.
struct Params {
    ptr: sys::virTypedParameterPtr,
    len: c_int,
}

/// libvirt's `virTypedParamsGet*` accessor for values of type `T`.
type Accessor<T> =
    unsafe extern "C" fn(sys::virTypedParameterPtr, c_int, *const c_char, *mut T) -> c_int;

impl Params {
    /// Parameter `name`, read with `get`; `None` when absent.
    fn read<T: Copy>(&self, name: &CStr, get: Accessor<T>, mut value: T) -> Option<T> {
        // SAFETY: `ptr` holds `len` parameters owned by the record list,
        // live while `self` is borrowed; `name` is a C string and `value` a
        // local. libvirt returns 1 when found, 0 when absent.
        let found = unsafe { get(self.ptr, self.len, name.as_ptr(), &mut value) };
        (found == 1).then_some(value)
    }
}

impl Stats for Params {
    fn int(&self, name: &CStr) -> Option<i32> {
        self.read(name, sys::virTypedParamsGetInt, 0)
    }

    fn uint(&self, name: &CStr) -> Option<u32> {
        self.read(name, sys::virTypedParamsGetUInt, 0)
    }

    fn ullong(&self, name: &CStr) -> Option<u64> {
        self.read(name, sys::virTypedParamsGetULLong, 0)
    }

    fn string(&self, name: &CStr) -> Option<String> {
        let value = self.read(name, sys::virTypedParamsGetString, std::ptr::null())?;
        // SAFETY: a found string is a C string owned by the parameters,
        // live while `self` is borrowed; it is copied out here.
        (!value.is_null()).then(|| {
            unsafe { CStr::from_ptr(value) }
                .to_string_lossy()
                .into_owned()
        })
    }
}

/// The guest `name` from its statistics. Every drive with a local path is
/// a disk, an inserted CD-ROM image too (the statistics do not say which
/// drive is a CD-ROM); one without (empty, network storage) is left out.
fn read_guest(name: &str, stats: &impl Stats) -> Result<GuestStats, LibvirtError> {
    let missing = |key: &CStr| {
        let key = key.to_string_lossy();
        LibvirtError::local(format!("the host reported no {key} for guest {name}"))
    };
    let uint = |key: &CStr| stats.uint(key).ok_or_else(|| missing(key));
    let ullong = |key: &CStr| stats.ullong(key).ok_or_else(|| missing(key));

    let state = stats
        .int(c"state.state")
        .ok_or_else(|| missing(c"state.state"))?;
    let disks = (0..uint(c"block.count")?)
        .filter_map(|i| CString::new(format!("block.{i}.path")).ok())
        .filter_map(|key| stats.string(&key))
        .collect();
    Ok(GuestStats {
        state: state as sys::virDomainState,
        facts: DomainFacts {
            name: name.to_owned(),
            vcpus: uint(c"vcpu.current")?,
            max_vcpus: uint(c"vcpu.maximum")?,
            memory_kib: ullong(c"balloon.current")?,
            max_memory_kib: ullong(c"balloon.maximum")?,
            disks,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Statistics as libvirt 9.0 reports them for a shut-off guest.
    #[derive(Default)]
    struct Fake(HashMap<&'static str, &'static str>);

    impl Fake {
        fn get<T: std::str::FromStr>(&self, name: &CStr) -> Option<T> {
            self.0.get(name.to_str().ok()?)?.parse().ok()
        }
    }

    impl Stats for Fake {
        fn int(&self, name: &CStr) -> Option<i32> {
            self.get(name)
        }
        fn uint(&self, name: &CStr) -> Option<u32> {
            self.get(name)
        }
        fn ullong(&self, name: &CStr) -> Option<u64> {
            self.get(name)
        }
        fn string(&self, name: &CStr) -> Option<String> {
            self.get(name)
        }
    }

    fn shut_off() -> Fake {
        Fake(HashMap::from([
            ("state.state", "5"),
            ("state.reason", "0"),
            ("balloon.current", "98304"),
            ("balloon.maximum", "131072"),
            ("vcpu.current", "1"),
            ("vcpu.maximum", "3"),
            ("block.count", "3"),
            ("block.0.name", "vda"),
            ("block.0.path", "/var/lib/libvirt/images/g.qcow2"),
            ("block.0.capacity", "16777216"),
            ("block.1.name", "hdc"),
            ("block.2.name", "vdb"),
            ("block.2.path", "/dev/vg0/data"),
        ]))
    }

    #[test]
    fn shut_off_guest_reads_sizes_vcpus_and_local_disks() {
        let guest = read_guest("g", &shut_off()).unwrap();
        assert_eq!(guest.state, sys::VIR_DOMAIN_SHUTOFF);
        let facts = guest.facts;
        assert_eq!(facts.name, "g");
        assert_eq!((facts.vcpus, facts.max_vcpus), (1, 3));
        assert_eq!((facts.memory_kib, facts.max_memory_kib), (98_304, 131_072));
        assert_eq!(
            facts.disks,
            vec!["/var/lib/libvirt/images/g.qcow2", "/dev/vg0/data"]
        );
    }

    /// The accessors against parameters built by libvirt itself.
    #[test]
    fn libvirt_typed_parameters_read_back() {
        // SAFETY: libvirt's one-time set-up (its thread-local error state),
        // which opening a connection does in vmctl itself.
        assert_eq!(unsafe { sys::virInitialize() }, 0);
        let mut params = Params {
            ptr: std::ptr::null_mut(),
            len: 0,
        };
        let mut max: c_int = 0;
        let (p, len, max) = (&mut params.ptr, &mut params.len, &mut max);
        // SAFETY: libvirt grows the list behind the three out-pointers,
        // all locals; every name and string is a C string it copies.
        let added = unsafe {
            [
                sys::virTypedParamsAddInt(p, len, max, c"state.state".as_ptr(), 1),
                sys::virTypedParamsAddUInt(p, len, max, c"vcpu.current".as_ptr(), 2),
                sys::virTypedParamsAddUInt(p, len, max, c"vcpu.maximum".as_ptr(), 4),
                sys::virTypedParamsAddULLong(p, len, max, c"balloon.current".as_ptr(), 1 << 20),
                sys::virTypedParamsAddULLong(p, len, max, c"balloon.maximum".as_ptr(), 1 << 21),
                sys::virTypedParamsAddUInt(p, len, max, c"block.count".as_ptr(), 1),
                sys::virTypedParamsAddString(p, len, max, c"block.0.path".as_ptr(), c"/d".as_ptr()),
            ]
        };
        assert!(added.iter().all(|rc| *rc == 0), "{added:?}");

        let guest = read_guest("g", &params);
        // SAFETY: frees what libvirt allocated above, once.
        unsafe { sys::virTypedParamsFree(params.ptr, params.len) };
        let facts = guest.unwrap().facts;
        assert_eq!((facts.vcpus, facts.max_vcpus), (2, 4));
        assert_eq!((facts.memory_kib, facts.max_memory_kib), (1 << 20, 1 << 21));
        assert_eq!(facts.disks, vec!["/d"]);
    }

    #[test]
    fn a_missing_group_is_an_error_naming_guest_and_field() {
        let mut stats = shut_off();
        stats.0.remove("vcpu.maximum");
        let err = read_guest("g", &stats).unwrap_err();
        assert_eq!(err.message, "the host reported no vcpu.maximum for guest g");
    }
}
