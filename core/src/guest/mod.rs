//! Guest lifecycle across the fleet: list, create, start and stop,
//! reconfigure, delete. Each operation takes a [`Fleet`](crate::libvirt::Fleet),
//! finds the guest by name, runs its libvirt calls off the async runtime and
//! returns a typed outcome or a typed error that names the guest and host.

mod create;
mod delete;
mod host_report;
mod list;
mod power;
mod reconfigure;
mod size;
mod stats;
mod storage;
mod xml;

pub use create::{CreateError, CreateOutcome, CreateRequest, create, host_virt_type};
pub use delete::{DeleteError, DeleteOutcome, delete};
pub use host_report::{HostReport, reports};
pub use list::{FleetListing, GuestSummary, list, state_name};
pub use power::{PowerAction, PowerError, PowerOutcome, StopOptions, power, stop};
pub use reconfigure::{
    ReconfigureError, ReconfigureOutcome, ReconfigureRequest, Scope, reconfigure,
};
pub use size::{Size, SizeError};
pub use storage::{IMAGES_DIR, POOL_NAME};
pub use xml::{DomainFacts, DomainSpec, VirtType, XmlError, parse_facts};
