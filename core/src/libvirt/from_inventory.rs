//! The fleet the inventory describes.

use crate::inventory::Inventory;

use super::{Fleet, HostTarget};

impl Fleet {
    /// Every inventory host, dialled at its `address`, with the admin's
    /// credentials in `<pki.dir>/admin`.
    pub fn from_inventory(inventory: &Inventory) -> Fleet {
        let hosts = inventory
            .hosts
            .values()
            .map(|h| HostTarget {
                name: h.name.clone(),
                address: h.address.clone(),
            })
            .collect();
        Fleet::new(hosts, inventory.pki.dir.join("admin"))
    }
}
