//! `sfr cert create`: an RSA-2048 key (PKCS#8 PEM, mode 0600) and a self-signed X.509 certificate for a JWT
//! connected app. Existing files are never overwritten.

use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::RsaKeyPair;
use rustls_pki_types::PrivatePkcs8KeyDer;
use serde_json::json;

use crate::cli::CertCreateArgs;
use crate::output::{CommandError, Ctx, Outcome};

pub fn run(_ctx: &mut Ctx, args: &CertCreateArgs) -> Result<Outcome, CommandError> {
    if args.name.is_empty() || args.name.contains(['/', '\\']) || args.name.starts_with('.') {
        return Err(CommandError::usage(
            "InvalidNameError",
            format!(
                "--name {:?} must be a plain file name without slashes.",
                args.name
            ),
        ));
    }
    let dir = &args.output_dir;
    let key_path = dir.join(format!("{}.key", args.name));
    let crt_path = dir.join(format!("{}.crt", args.name));
    for p in [&key_path, &crt_path] {
        if p.exists() {
            return Err(CommandError::new(
                "FileExistsError",
                format!(
                    "{} already exists; sfr does not overwrite keys or certificates.",
                    p.display()
                ),
            )
            .with_action("Pick another --name or --output-dir, or move the existing files away."));
        }
    }
    let (key_pem, crt_pem) = generate(&args.name, args.days).map_err(|e| {
        CommandError::new(
            "CertificateError",
            format!("Cannot create the key and certificate: {e}"),
        )
    })?;
    std::fs::create_dir_all(dir)
        .map_err(|e| CommandError::generic(format!("Cannot create {}: {e}", dir.display())))?;
    write_new(&key_path, key_pem.as_bytes(), 0o600)?;
    write_new(&crt_path, crt_pem.as_bytes(), 0o644)?;
    let key_abs = absolute(&key_path);
    let crt_abs = absolute(&crt_path);
    let human = format!(
        "Created {key} (private key, keep it secret) and {crt} (certificate, valid {days} days).\n\n\
Next steps:\n  1. Upload {crt} to the connected app (\"Use digital signatures\").\n  \
2. Log in: sfr org login jwt --jwt-key-file {key} --client-id <consumer key> --username <username> [--instance-url <login URL>]",
        key = key_path.display(),
        crt = crt_path.display(),
        days = args.days,
    );
    Ok(Outcome::new(
        json!({
            "privateKeyFile": key_abs.display().to_string(),
            "certificateFile": crt_abs.display().to_string(),
            "validDays": args.days,
        }),
        human,
    ))
}

/// (PKCS#8 key PEM, certificate PEM), CN = `name`, valid from now for `days`.
pub fn generate(name: &str, days: u32) -> Result<(String, String), String> {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| e.to_string())?;
    let pkcs8 = key.as_der().map_err(|e| e.to_string())?;
    let der = PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
    let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| e.to_string())?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, name);
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(days));
    let cert = params.self_signed(&signer).map_err(|e| e.to_string())?;
    Ok((signer.serialize_pem(), cert.pem()))
}

/// Writes a file that must not exist yet, with `mode`, through a temp file and a rename.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CommandError> {
    let fail =
        |e: std::io::Error| CommandError::generic(format!("Cannot write {}: {e}", path.display()));
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("cert"),
        std::process::id()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        use std::io::Write;
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)?;
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    result.map_err(fail)
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_signs_what_the_certificate_verifies() {
        let (key_pem, crt_pem) = generate("server", 30).unwrap();
        assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(crt_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("server.key");
        std::fs::write(&key_file, &key_pem).unwrap();
        let key = crate::org::jwt::load_key(&key_file).unwrap();
        let jwt =
            crate::org::jwt::assertion(&key, "c", "u@example.com", "http://h/", 1_800_000_000)
                .unwrap();
        let assertion = sfr_wire::jwt::Assertion::parse(&jwt).unwrap();
        use rustls_pki_types::pem::PemObject;
        let cert = rustls_pki_types::CertificateDer::from_pem_slice(crt_pem.as_bytes()).unwrap();
        // The certificate's RSA public key (PKCS#1) is the BIT STRING after the rsaEncryption algorithm id.
        use aws_lc_rs::signature::KeyPair;
        let public = key.public_key().as_ref().to_vec();
        assert!(
            cert.as_ref()
                .windows(public.len())
                .any(|w| w == public.as_slice())
        );
        assert!(assertion.verify_rs256(&public).is_ok());
    }

    #[test]
    fn refuses_to_overwrite_and_writes_0600_keys() {
        let dir = tempfile::tempdir().unwrap();
        let args = CertCreateArgs {
            name: "server".into(),
            output_dir: dir.path().to_path_buf(),
            days: 10,
        };
        let mut ctx = Ctx::new(true, "CertCreate");
        run(&mut ctx, &args).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("server.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = run(&mut ctx, &args).unwrap_err();
        assert_eq!(err.name, "FileExistsError");
    }
}
