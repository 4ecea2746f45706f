//! One lab host: a network, mount and UTS namespace of its own with its own
//! libvirtd and sshd, as a freshly installed hypervisor host looks.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{output, run};
use crate::error::{LabError, Result, io};
use crate::host_files::{self, LIBVIRTD_PID};
use crate::net;

/// A running lab host.
#[derive(Debug)]
pub struct Host {
    name: String,
    address: Ipv4Addr,
    netns: String,
    veth: String,
    dir: PathBuf,
    holder: u32,
    init: Option<std::process::Child>,
}

/// What a host needs to be created.
pub(crate) struct HostPlan<'a> {
    pub name: &'a str,
    pub lab_index: u8,
    pub slot: usize,
    pub dir: PathBuf,
    pub hosts_lines: &'a str,
    pub authorized_keys: &'a str,
}

impl Host {
    /// Lays out, wires and starts a host; returns once libvirtd and sshd run.
    pub(crate) fn start(plan: &HostPlan) -> Result<Host> {
        let address = net::host_address(plan.lab_index, plan.slot);
        let host = Host {
            name: plan.name.to_string(),
            address,
            netns: format!("vmlab{}-{}", plan.lab_index, plan.name),
            veth: format!("vl{}h{}", plan.lab_index, plan.slot),
            dir: plan.dir.clone(),
            holder: 0,
            init: None,
        };
        host.write_files(plan)?;
        let bridge = net::bridge_name(plan.lab_index);
        net::add_host_netns(&host.netns, &bridge, &host.veth, address)?;
        host.spawn_init()
    }

    fn write_files(&self, plan: &HostPlan) -> Result<()> {
        let dir = &self.dir;
        fs::create_dir_all(dir.join("ssh")).map_err(io(dir))?;
        let uuid = fs::read_to_string("/proc/sys/kernel/random/uuid").map_err(io("uuid"))?;
        host_files::lay_out(dir, uuid.trim(), plan.hosts_lines)?;
        host_files::write(
            &dir.join("restart-libvirtd"),
            &host_files::restart_script(),
            0o755,
        )?;
        host_files::write(
            &dir.join("init.sh"),
            &host_files::init_script(dir, &self.name),
            0o755,
        )?;
        let sshd = host_files::sshd_config(dir, &self.address.to_string());
        host_files::write(&dir.join("ssh/sshd_config"), &sshd, 0o600)?;
        host_files::write(
            &dir.join("ssh/authorized_keys/root"),
            plan.authorized_keys,
            0o600,
        )?;
        let key = dir.join("ssh/ssh_host_ed25519_key");
        let key = key.to_string_lossy();
        run(
            "ssh-keygen",
            &[
                "-q", "-t", "ed25519", "-N", "", "-C", &self.name, "-f", &key,
            ],
        )?;
        Ok(())
    }

    fn spawn_init(mut self) -> Result<Host> {
        let log = self.dir.join("init.log");
        let log_file = fs::File::create(&log).map_err(io(&log))?;
        let err_file = log_file.try_clone().map_err(io(&log))?;
        let init = self.dir.join("init.sh");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.netns, "unshare", "--mount", "--uts"])
            .args(["--propagation", "private", "/bin/sh"])
            .arg(&init)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .process_group(0)
            .spawn()
            .map_err(io(&init))?;
        self.init = Some(child);
        self.wait_ready(&log)?;
        let pid = fs::read_to_string(self.dir.join("holder.pid")).map_err(io(&self.dir))?;
        self.holder = pid.trim().parse().map_err(|_| {
            LabError::Invalid(format!("host {}: bad holder pid {pid:?}", self.name))
        })?;
        Ok(self)
    }

    fn wait_ready(&mut self, log: &Path) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.dir.join("ready").exists() {
                return Ok(());
            }
            let exited = self.init.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                let text = fs::read_to_string(log).unwrap_or_default();
                return Err(LabError::Unavailable(format!(
                    "host {} did not start ({status}): {}",
                    self.name,
                    text.trim()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(LabError::Timeout {
            host: self.name.clone(),
            what: "libvirtd and sshd".into(),
        })
    }

    /// The host's name (its hostname and DNS name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's address on the lab bridge.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The host's directory on the admin machine (its private files live here).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path, inside the host, of the host's private mount `mount_point`
    /// (e.g. `/etc/pki`) as seen from the admin machine.
    pub fn private_path(&self, inside: &str) -> PathBuf {
        for (sub, target) in host_files::PRIVATE_DIRS {
            if let Some(rest) = inside.strip_prefix(target) {
                return self.dir.join(sub).join(rest.trim_start_matches('/'));
            }
        }
        PathBuf::from(inside)
    }

    /// The command that restarts this host's libvirtd, run inside the host.
    pub fn restart_command(&self) -> String {
        self.dir.join("restart-libvirtd").display().to_string()
    }

    /// The network namespace's name.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// A command that runs `program` inside the host's namespaces.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.args([
            "-t",
            &self.holder.to_string(),
            "-n",
            "-m",
            "-u",
            "--",
            program,
        ]);
        c
    }

    /// Runs `program args...` inside the host; returns stdout.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<String> {
        let out = output(self.command(program).args(args))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs `virsh` inside the host against its local daemon.
    pub fn virsh(&self, args: &[&str]) -> Result<String> {
        let mut all = vec!["-q", "-c", "qemu:///system"];
        all.extend_from_slice(args);
        self.exec("virsh", &all)
    }

    /// Names of the guests running on this host.
    pub fn running_guests(&self) -> Result<Vec<String>> {
        let out = self.virsh(&["list", "--name"])?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// Names of all guests defined (running or not) on this host.
    pub fn defined_guests(&self) -> Result<Vec<String>> {
        let out = self.virsh(&["list", "--all", "--name"])?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// Restarts libvirtd the way the host's init would.
    pub fn restart_daemon(&self) -> Result<()> {
        self.exec(&self.restart_command(), &[]).map(|_| ())
    }

    /// Kills libvirtd with SIGKILL, as a crash would (guests keep running).
    pub fn kill_daemon(&self) -> Result<()> {
        self.signal_daemon("-KILL")
    }

    /// Stops libvirtd (guests keep running), to make the host unreachable.
    pub fn stop_daemon(&self) -> Result<()> {
        self.signal_daemon("-TERM")
    }

    fn signal_daemon(&self, signal: &str) -> Result<()> {
        let pid = fs::read_to_string(self.private_path(LIBVIRTD_PID)).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<u32>() {
            let _ = run("kill", &[signal, &pid.to_string()]);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// Takes the host's link down (or up again), cutting it off the bridge.
    pub fn set_link(&self, up: bool) -> Result<()> {
        net::set_link(&self.netns, &self.veth, up)
    }

    /// Adds an account `user` to the host (not to the admin machine), whose
    /// SSH login takes `authorized_key`, with passwordless sudo if asked.
    pub fn add_user(&self, user: &str, authorized_key: &str, sudo: bool) -> Result<()> {
        let uid = 2000 + self.user_count()?;
        let home = self.dir.join("home").join(user);
        fs::create_dir_all(&home).map_err(io(&home))?;
        append(
            &self.dir.join("passwd"),
            &format!("{user}:x:{uid}:{uid}::{}:/bin/sh\n", home.display()),
        )?;
        append(&self.dir.join("group"), &format!("{user}:x:{uid}:\n"))?;
        append(
            &self.dir.join("shadow"),
            &format!("{user}:*:19000:0:99999:7:::\n"),
        )?;
        let keys = self.dir.join("ssh/authorized_keys").join(user);
        host_files::write(&keys, authorized_key, 0o644)?;
        if sudo {
            let rule = format!("{user} ALL=(ALL) NOPASSWD:ALL\n");
            host_files::write(&self.dir.join("etc-sudoers.d").join(user), &rule, 0o440)?;
        }
        Ok(())
    }

    fn user_count(&self) -> Result<u32> {
        let path = self.dir.join("ssh/authorized_keys");
        Ok(fs::read_dir(&path).map_err(io(&path))?.count() as u32)
    }

    /// Stops every process of the host (guests included) and removes its
    /// network namespace.
    pub(crate) fn stop(&mut self) {
        stop_netns(&self.netns);
        if let Some(mut child) = self.init.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Ends every process in `netns` (TERM, then KILL) and deletes it.
pub(crate) fn stop_netns(netns: &str) {
    for signal in ["-TERM", "-KILL"] {
        let pids = net::netns_pids(netns);
        if pids.is_empty() {
            break;
        }
        for pid in &pids {
            let _ = run("kill", &[signal, &pid.to_string()]);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while !net::netns_pids(netns).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    net::delete_netns(netns);
}

fn append(path: &Path, line: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io(path))?;
    f.write_all(line.as_bytes()).map_err(io(path))
}
