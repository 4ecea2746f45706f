//! Writing a file on a host atomically: a temporary file in the target's
//! directory gets the contents (over stdin, never on a command line), the
//! owner and the mode, and is then renamed over the target. Readers see the
//! old file or the new one, never half of either.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::Session;
use super::error::UploadError;

/// A file to write on a host.
#[derive(Clone, Copy)]
pub struct RemoteFile<'a> {
    /// Absolute path on the host.
    pub path: &'a Path,
    /// The contents.
    pub contents: &'a [u8],
    /// Permission bits.
    pub mode: u32,
    /// Owning user.
    pub owner: &'a str,
    /// Owning group.
    pub group: &'a str,
}

impl std::fmt::Debug for RemoteFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteFile")
            .field("path", &self.path)
            .field("mode", &format_args!("{:o}", self.mode))
            .field("bytes", &self.contents.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Writes `file` atomically, as root (through sudo when needed).
    pub async fn upload(&self, file: &RemoteFile<'_>) -> Result<(), UploadError> {
        let script = upload_script(file);
        self.run_as_root("write file", &script, Some(file.contents))
            .await
            .map(|_| ())
            .map_err(|source| UploadError::Write {
                host: self.host().to_owned(),
                path: file.path.to_owned(),
                source,
            })
    }
}

/// The shell script that writes stdin to `file.path` atomically. Input
/// cut short (a dropped connection closes stdin early) never reaches the
/// target: the length and SHA-256 are checked before the rename.
fn upload_script(file: &RemoteFile<'_>) -> String {
    let path = quote(&file.path.to_string_lossy());
    let owner = quote(&format!("{}:{}", file.owner, file.group));
    let sum: String = Sha256::digest(file.contents)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "set -e; umask 077; p={path}; d=$(dirname \"$p\"); \
         [ -d \"$d\" ] || (umask 022; mkdir -p \"$d\"); \
         t=$(mktemp \"$d/.vmctl-upload.XXXXXX\"); trap 'rm -f \"$t\"' EXIT; \
         cat > \"$t\"; \
         [ \"$(wc -c < \"$t\")\" -eq {len} ] || {{ echo \"$p: incomplete input\" >&2; exit 1; }}; \
         [ \"$(sha256sum < \"$t\" | cut -d' ' -f1)\" = {sum} ] || {{ echo \"$p: corrupted input\" >&2; exit 1; }}; \
         chown {owner} \"$t\"; chmod {mode:o} \"$t\"; \
         mv -f \"$t\" \"$p\"; trap - EXIT",
        len = file.contents.len(),
        mode = file.mode
    )
}

/// Quotes `s` for a POSIX shell.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_single_quotes() {
        assert_eq!(quote("a'b"), "'a'\\''b'");
    }

    #[test]
    fn script_renames_a_temp_file_in_the_same_dir() {
        let file = RemoteFile {
            path: Path::new("/etc/pki/libvirt/private/serverkey.pem"),
            contents: b"secret",
            mode: 0o600,
            owner: "root",
            group: "root",
        };
        let script = upload_script(&file);
        assert!(script.contains("chmod 600"));
        assert!(script.contains("mktemp \"$d/.vmctl-upload.XXXXXX\""));
        assert!(script.contains("mv -f \"$t\" \"$p\""));
        assert!(!script.contains("secret"));
    }

    /// Runs the script locally with `input` on stdin; returns its success.
    fn run_locally(file: &RemoteFile<'_>, input: &[u8]) -> bool {
        use std::io::Write;
        let mut child = std::process::Command::new("sh")
            .args(["-c", &upload_script(file)])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait().unwrap().success()
    }

    #[test]
    fn input_cut_short_never_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("key.pem");
        std::fs::write(&target, b"old").unwrap();
        let id = |flag: &str| {
            let out = std::process::Command::new("id").arg(flag).output().unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        let (owner, group) = (id("-un"), id("-gn"));
        let contents = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let file = RemoteFile {
            path: &target,
            contents,
            mode: 0o600,
            owner: &owner,
            group: &group,
        };

        assert!(!run_locally(&file, &contents[..20]));
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let mut flipped = contents.to_vec();
        flipped[30] ^= 1;
        assert!(!run_locally(&file, &flipped));
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );

        assert!(run_locally(&file, contents));
        assert_eq!(std::fs::read(&target).unwrap(), contents);
    }
}
