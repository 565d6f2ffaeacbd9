//! The look-ups behind the engine's [`Action::Resolve`](crate::engine::Action::Resolve)
//! and a reload: an instance's interface, source address, VIP devices and
//! macvlan, and the current state of what it tracks. They talk to
//! rtnetlink and read files, so they run on the address worker (or, at
//! start-up, before the event loop runs), never on the loop itself; the
//! loop turns a [`HostLookup`] into a [`super::host::Host`] by opening the
//! instance's socket (see [`super::resolve`]).

use std::net::IpAddr;
use std::path::PathBuf;

use vrrp_netaddr::{AddressSpec, Handle, IfIndex, Link};

use super::host::{VmacLink, address_spec, create_vmac, primary_address};
use crate::config::{self, Config};
use crate::engine::{LinkState, SetupError};

/// What to look up for one instance besides its own table.
#[derive(Debug)]
pub(crate) struct LookupRequest {
    /// Where the macvlan record lives (see [`super::vmac_record`]).
    pub(crate) state_dir: PathBuf,
    /// The interfaces the instance and its sync group track.
    pub(crate) tracked_links: Vec<String>,
    /// The files they track: each name with its path.
    pub(crate) tracked_files: Vec<(String, PathBuf)>,
}

impl LookupRequest {
    /// The request for `instance` under `config` (for its tracked
    /// interfaces and files, its own and its sync group's).
    pub(crate) fn new(config: &Config, instance: &config::Instance) -> LookupRequest {
        let mut sets = vec![&instance.tracking];
        if let Some(g) = config.group_of(&instance.name) {
            sets.push(&g.tracking);
        }
        let mut tracked_links = instance.routing_links();
        tracked_links.extend(config.statics.links_tracked_by(&instance.name));
        let mut tracked_files = Vec::new();
        for set in sets {
            tracked_links.extend(set.interfaces.iter().map(|t| t.interface.clone()));
            for r in &set.files {
                if let Some(f) = config.track_file.get(&r.name) {
                    tracked_files.push((r.name.clone(), f.path.clone()));
                }
            }
        }
        LookupRequest {
            state_dir: config.global.state_dir.clone(),
            tracked_links,
            tracked_files,
        }
    }
}

/// What the host holds for an instance; the socket is the loop's to open.
#[derive(Debug)]
pub(crate) struct HostLookup {
    /// The interface adverts go out on.
    pub(crate) link: Link,
    /// The address they are sent from.
    pub(crate) primary: IpAddr,
    /// Its prefix length, when it is an interface address.
    pub(crate) primary_prefix_len: Option<u8>,
    /// Every VIP then excluded VIP, on its device (the macvlan for those
    /// without `dev`, when there is one).
    pub(crate) addresses: Vec<AddressSpec>,
    /// The macvlan (`use_vmac`), created or found.
    pub(crate) vmac: Option<Box<VmacLink>>,
    /// Each tracked interface, with whether it is up.
    pub(crate) tracked_links: Vec<(String, bool)>,
    /// Each tracked file, with its value.
    pub(crate) tracked_files: Vec<(String, i64)>,
    /// Whether the tracked source address is on the interface (true when
    /// not tracked).
    pub(crate) source_present: bool,
}

/// Looks up what instance `config` needs on the host and creates its
/// macvlan. Nothing sleeps: what is not there yet (an interface, a
/// tentative IPv6 link-local address) is a waiting [`SetupError`]. On an
/// error nothing is left behind.
pub(crate) fn look_up(
    handle: &mut Handle,
    config: &config::Instance,
    request: &LookupRequest,
) -> Result<HostLookup, SetupError> {
    let link = handle
        .link_by_name(&config.interface)
        .map_err(|e| SetupError::waiting(format!("interface {}", config.interface), e))?;
    let (primary, primary_prefix_len) = match config.source_address {
        Some(a) => (a, None),
        None => primary_address(handle, config, &link)?,
    };
    // Every VIP's device before creating anything.
    let mut addresses = Vec::new();
    let mut on_default = Vec::new();
    for vip in config.vips.iter().chain(&config.excluded_vips) {
        on_default.push(vip.device.is_none());
        addresses.push(address_spec(handle, vip, link.index)?);
    }
    let vmac = match &config.vmac {
        Some(v) => Some(Box::new(create_vmac(
            handle,
            &request.state_dir,
            config,
            v,
            &link,
        )?)),
        None => None,
    };
    if let Some(v) = &vmac {
        for (spec, default) in addresses.iter_mut().zip(on_default) {
            if default {
                spec.ifindex = v.link.index;
            }
        }
    }
    let source_present = match (config.track_source_address, config.source_address) {
        (true, Some(source)) => {
            let mut links = vec![link.index];
            links.extend(vmac.as_ref().map(|v| v.link.index));
            let mut present = false;
            for index in links {
                let on = handle
                    .addresses(Some(index))
                    .map_err(|e| SetupError::waiting("the addresses of its interface", e))?;
                present |= on.iter().any(|a| a.prefix.addr() == source);
            }
            present
        }
        _ => true,
    };
    let tracked_links = request
        .tracked_links
        .iter()
        .map(|name| {
            let up = handle.link_by_name(name).is_ok_and(|l| l.is_up());
            (name.clone(), up)
        })
        .collect();
    let tracked_files = request
        .tracked_files
        .iter()
        .map(|(name, path)| (name.clone(), crate::track::read_file_value(path).0))
        .collect();
    Ok(HostLookup {
        link,
        primary,
        primary_prefix_len,
        addresses,
        vmac,
        tracked_links,
        tracked_files,
        source_present,
    })
}

/// What was found for the instance at an index of a configuration, or
/// why it cannot run (yet).
pub(crate) type Found = (usize, Result<Box<HostLookup>, SetupError>);

/// Address specs, with the addresses that could not be resolved and why.
pub(crate) type Specs = (Vec<AddressSpec>, Vec<String>);

/// [`look_up`] of instance `ic` of `config`, with what it tracks there.
pub(crate) fn look_up_in(
    handle: &mut Handle,
    config: &Config,
    ic: &config::Instance,
) -> Result<HostLookup, SetupError> {
    look_up(handle, ic, &LookupRequest::new(config, ic))
}

/// What a reload to a configuration needs looked up (see
/// [`Engine::needs_resolving`](crate::engine::Engine::needs_resolving)
/// and [`Engine::address_updates`](crate::engine::Engine::address_updates)),
/// and what was found.
#[derive(Debug, Default)]
pub(crate) struct ReloadLookups {
    /// The indices of the instances to look up.
    pub(crate) resolve: Vec<usize>,
    /// The indices of the instances that get new addresses, each with
    /// the device of those without `dev`.
    pub(crate) update: Vec<(usize, IfIndex)>,
    /// What was found for each of `resolve`, by index.
    pub(crate) hosts: Vec<Found>,
    /// The new specs of each of `update`, by index, with the addresses
    /// that could not be resolved.
    pub(crate) specs: Vec<(usize, Specs)>,
}

impl ReloadLookups {
    /// Looks up every instance of `resolve` and `update` in `config`.
    pub(crate) fn run(&mut self, handle: &mut Handle, config: &Config) {
        for &k in &self.resolve {
            let Some(ic) = config.instances.get(k) else {
                continue;
            };
            self.hosts
                .push((k, look_up_in(handle, config, ic).map(Box::new)));
        }
        for &(k, default) in &self.update {
            let Some(ic) = config.instances.get(k) else {
                continue;
            };
            let vips: Vec<_> = ic.vips.iter().chain(&ic.excluded_vips).cloned().collect();
            self.specs.push((k, address_specs(handle, &vips, default)));
        }
    }
}

/// The address specs of `vips` (a reload that changed only an instance's
/// addresses), those without `dev` on `default`; with each address that
/// could not be resolved, and why.
pub(crate) fn address_specs(
    handle: &mut Handle,
    vips: &[config::VirtualAddress],
    default: IfIndex,
) -> Specs {
    let mut specs = Vec::new();
    let mut failed = Vec::new();
    for vip in vips {
        match address_spec(handle, vip, default) {
            Ok(spec) => specs.push(spec),
            Err(e) => failed.push(format!("{}: {e}", vip.address)),
        }
    }
    (specs, failed)
}

/// The state of each of `links` now (after the event stream lost events):
/// up, down, or removed; those that cannot be read are left out.
pub(crate) fn link_states(
    handle: &mut Handle,
    links: Vec<(IfIndex, String)>,
) -> Vec<(u32, String, LinkState)> {
    links
        .into_iter()
        .filter_map(|(index, name)| {
            let state = match handle.link_by_index(index) {
                Ok(link) if link.is_up() => LinkState::Up,
                Ok(_) => LinkState::Down,
                Err(vrrp_netaddr::Error::NoSuchInterface(_)) => LinkState::Removed,
                Err(_) => return None,
            };
            Some((index.get(), name, state))
        })
        .collect()
}
