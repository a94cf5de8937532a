//! The admin subcommands: `user add|passwd|remove|list` and `cert show`. Each edit of the users
//! file is read-modify-write with an atomic replace, so other users' entries are never lost;
//! a running daemon picks the change up at the next login.

use crate::auth::password::{self, MIN_PASSWORD_LEN};
use crate::auth::users_file::{Secret, UserEntry, UsersFile, validate_name};
use crate::cli::{CertCommand, UserCommand};
use crate::config::Paths;
use anyhow::{Context as _, bail};
use std::io::BufRead as _;

pub fn user(cmd: UserCommand, paths: &Paths) -> anyhow::Result<()> {
    let path = &paths.users;
    let mut file = if path.exists() {
        UsersFile::load(path)?
    } else {
        UsersFile::default()
    };
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            validate_name(&name)
                .map_err(|why| anyhow::anyhow!("invalid user name '{name}': {why}"))?;
            if file.users.contains_key(&name) {
                bail!(
                    "user '{name}' already exists: use 'vigiad user passwd {name}' to change its password"
                );
            }
            let pw = read_new_password(password_stdin)?;
            file.users.insert(
                name.clone(),
                UserEntry {
                    secret: Secret::Hash(hash(&pw)?),
                    role,
                },
            );
            ensure_parent(path)?;
            file.save(path)?;
            println!("added user '{name}' with role {role} to {}", path.display());
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let Some(entry) = file.users.get_mut(&name) else {
                bail!("no user '{name}' in {}", path.display());
            };
            let pw = read_new_password(password_stdin)?;
            entry.secret = Secret::Hash(hash(&pw)?);
            file.save(path)?;
            println!("changed the password of '{name}'");
        }
        UserCommand::Remove { name } => {
            if file.users.remove(&name).is_none() {
                bail!("no user '{name}' in {}", path.display());
            }
            file.save(path)?;
            println!("removed user '{name}'");
        }
        UserCommand::List => {
            if file.users.is_empty() {
                println!("no users in {}", path.display());
            }
            for (name, e) in &file.users {
                let note = match e.secret {
                    Secret::Hash(_) => "",
                    Secret::Plain(_) => {
                        "  (plaintext password: run 'vigiad user passwd' to hash it)"
                    }
                };
                println!("{name}\t{}{note}", e.role);
            }
        }
    }
    Ok(())
}

pub fn cert(cmd: CertCommand, paths: &Paths) -> anyhow::Result<()> {
    match cmd {
        CertCommand::Show => {
            if !paths.cert.exists() {
                bail!(
                    "no certificate at '{}' yet: the daemon makes one at its first start",
                    paths.cert.display()
                );
            }
            let fp = crate::certs::fingerprint_of(paths)?;
            println!("certificate: {}", paths.cert.display());
            println!("key:         {}", paths.key.display());
            println!("SHA-256:     {fp}");
        }
    }
    Ok(())
}

fn hash(pw: &str) -> anyhow::Result<String> {
    password::hash(pw).map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

fn ensure_parent(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating directory '{}'", dir.display()))?;
    }
    Ok(())
}

fn read_new_password(from_stdin: bool) -> anyhow::Result<String> {
    let pw = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        let pw = rpassword::prompt_password("New password: ").context("reading the password")?;
        let again = rpassword::prompt_password("Repeat it: ").context("reading the password")?;
        if pw != again {
            bail!("the passwords differ; nothing was changed");
        }
        pw
    };
    if pw.chars().count() < MIN_PASSWORD_LEN {
        bail!("password too short: at least {MIN_PASSWORD_LEN} characters");
    }
    if pw.len() > vigia_shared::proto::limits::MAX_PASSWORD {
        bail!(
            "password too long: at most {} bytes",
            vigia_shared::proto::limits::MAX_PASSWORD
        );
    }
    Ok(pw)
}
