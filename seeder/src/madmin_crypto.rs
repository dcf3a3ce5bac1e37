//! madmin-go's `EncryptData`/`DecryptData`, which MinIO requires for admin request bodies
//! that carry secrets (add-user).
//!
//! Layout: `salt(32) | AEAD id(1) | nonce(8) | sio-go stream`, key = Argon2id(password, salt,
//! t=1, m=64 MiB, p=4, 32 bytes). The sio-go stream seals the plaintext in 16 KiB fragments
//! with the 12-byte AEAD nonce `nonce | seq_le32`; each fragment's associated data is
//! `flag | tag`, where flag is 0x80 on the final fragment and 0x00 otherwise, and tag is
//! the AEAD tag of an empty message sealed under sequence number 0. Fragments then use
//! sequence numbers from 1. The final fragment holds 0..=16 KiB, so an empty plaintext
//! still produces one (tag-only) fragment.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

const SALT_LEN: usize = 32;
const STREAM_NONCE_LEN: usize = 8;
const HEADER_LEN: usize = SALT_LEN + 1 + STREAM_NONCE_LEN;
const TAG_LEN: usize = 16;
const BUF_SIZE: usize = 1 << 14;

// AEAD ids from madmin-go; the server accepts all three, we produce AES-GCM.
const ARGON2ID_AES_GCM: u8 = 0x00;
const ARGON2ID_CHACHA20_POLY1305: u8 = 0x01;
const PBKDF2_AES_GCM: u8 = 0x02;

const ARGON2ID_TIME: u32 = 1;
const ARGON2ID_MEMORY_KIB: u32 = 64 * 1024;
const ARGON2ID_THREADS: u32 = 4;

pub fn encrypt_data(password: &str, data: &[u8]) -> Result<Vec<u8>> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; STREAM_NONCE_LEN];
    getrandom::getrandom(&mut salt)
        .and_then(|()| getrandom::getrandom(&mut nonce))
        .map_err(|e| Error::new(format!("no randomness available for encryption: {e}")))?;
    seal_stream(&aes_cipher(password, &salt)?, &salt, &nonce, data)
}

/// Everything after key derivation; tests reuse one derived key because Argon2id with
/// 64 MiB takes seconds in unoptimized builds.
fn seal_stream(
    cipher: &Aes256Gcm,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; STREAM_NONCE_LEN],
    data: &[u8],
) -> Result<Vec<u8>> {
    let fragments = data.len().div_ceil(BUF_SIZE).max(1);
    let mut out = Vec::with_capacity(HEADER_LEN + data.len() + fragments * TAG_LEN);
    out.extend_from_slice(salt);
    out.push(ARGON2ID_AES_GCM);
    out.extend_from_slice(nonce);

    let mut ad = stream_associated_data(cipher, nonce)?;
    // Every fragment except the last is exactly BUF_SIZE; the last keeps the remainder,
    // which is a full BUF_SIZE when the length is a multiple of it (as in sio-go's writer).
    let full = fragments - 1;
    for (i, chunk) in data.chunks(BUF_SIZE).take(full).enumerate() {
        out.extend(seal(cipher, nonce, i as u32 + 1, chunk, &ad)?);
    }
    ad[0] = 0x80;
    out.extend(seal(
        cipher,
        nonce,
        full as u32 + 1,
        &data[full * BUF_SIZE..],
        &ad,
    )?);
    Ok(out)
}

pub fn decrypt_data(password: &str, data: &[u8]) -> Result<Vec<u8>> {
    let (salt, id, nonce, stream) = split_header(data)?;
    let cipher = match id {
        ARGON2ID_AES_GCM => aes_cipher(password, &salt)?,
        ARGON2ID_CHACHA20_POLY1305 | PBKDF2_AES_GCM => {
            return Err(Error::new(format!(
                "unsupported admin encryption scheme {id}"
            )))
        }
        _ => return Err(Error::new(format!("unknown admin encryption scheme {id}"))),
    };
    open_stream(&cipher, &nonce, stream)
}

type Header<'a> = ([u8; SALT_LEN], u8, [u8; STREAM_NONCE_LEN], &'a [u8]);

fn split_header(data: &[u8]) -> Result<Header<'_>> {
    if data.len() < HEADER_LEN + TAG_LEN {
        return Err(Error::new("encrypted admin data is too short"));
    }
    let (header, stream) = data.split_at(HEADER_LEN);
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&header[..SALT_LEN]);
    let mut nonce = [0u8; STREAM_NONCE_LEN];
    nonce.copy_from_slice(&header[SALT_LEN + 1..]);
    Ok((salt, header[SALT_LEN], nonce, stream))
}

fn open_stream(
    cipher: &Aes256Gcm,
    nonce: &[u8; STREAM_NONCE_LEN],
    stream: &[u8],
) -> Result<Vec<u8>> {
    let mut ad = stream_associated_data(cipher, nonce)?;
    let fragments: Vec<&[u8]> = stream.chunks(BUF_SIZE + TAG_LEN).collect();
    let mut out = Vec::with_capacity(stream.len());
    for (i, fragment) in fragments.iter().enumerate() {
        // The last fragment must carry the final flag: a stream cut at a fragment boundary
        // then fails instead of decrypting as a shorter message.
        if i + 1 == fragments.len() {
            ad[0] = 0x80;
        }
        if fragment.len() < TAG_LEN {
            return Err(Error::new("encrypted admin data is truncated"));
        }
        let n = full_nonce(nonce, i as u32 + 1);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(&n),
                Payload {
                    msg: fragment,
                    aad: &ad,
                },
            )
            .map_err(|_| Error::new("encrypted admin data is not authentic (wrong key?)"))?;
        out.extend(plain);
    }
    Ok(out)
}

fn aes_cipher(password: &str, salt: &[u8; SALT_LEN]) -> Result<Aes256Gcm> {
    let params = Params::new(
        ARGON2ID_MEMORY_KIB,
        ARGON2ID_TIME,
        ARGON2ID_THREADS,
        Some(32),
    )
    .map_err(|e| Error::new(format!("argon2 parameters: {e}")))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut key)
        .map_err(|e| Error::new(format!("argon2 key derivation: {e}")))?;
    Aes256Gcm::new_from_slice(&key).map_err(|e| Error::new(format!("AES key: {e}")))
}

fn full_nonce(nonce: &[u8; STREAM_NONCE_LEN], seq: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..STREAM_NONCE_LEN].copy_from_slice(nonce);
    n[STREAM_NONCE_LEN..].copy_from_slice(&seq.to_le_bytes());
    n
}

/// `0x00 | tag(seal(seq=0, "", aad=""))`: binds every fragment to this key and nonce.
fn stream_associated_data(
    cipher: &Aes256Gcm,
    nonce: &[u8; STREAM_NONCE_LEN],
) -> Result<[u8; 1 + TAG_LEN]> {
    let n = full_nonce(nonce, 0);
    let tag = cipher
        .encrypt(Nonce::from_slice(&n), Payload { msg: &[], aad: &[] })
        .map_err(|_| Error::new("AES-GCM sealing failed"))?;
    let mut ad = [0u8; 1 + TAG_LEN];
    ad[1..].copy_from_slice(&tag);
    Ok(ad)
}

fn seal(
    cipher: &Aes256Gcm,
    nonce: &[u8; STREAM_NONCE_LEN],
    seq: u32,
    chunk: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>> {
    let n = full_nonce(nonce, seq);
    cipher
        .encrypt(
            Nonce::from_slice(&n),
            Payload {
                msg: chunk,
                aad: ad,
            },
        )
        .map_err(|_| Error::new("AES-GCM sealing failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const PASSWORD: &str = "root-password-123";
    const SALT: [u8; SALT_LEN] = [7u8; SALT_LEN];

    fn cipher() -> &'static Aes256Gcm {
        static CIPHER: OnceLock<Aes256Gcm> = OnceLock::new();
        CIPHER.get_or_init(|| aes_cipher(PASSWORD, &SALT).unwrap())
    }

    fn round_trip(data: &[u8], nonce: &[u8; STREAM_NONCE_LEN]) -> Vec<u8> {
        let enc = seal_stream(cipher(), &SALT, nonce, data).unwrap();
        let (salt, id, parsed_nonce, stream) = split_header(&enc).unwrap();
        assert_eq!((salt, id, &parsed_nonce), (SALT, ARGON2ID_AES_GCM, nonce));
        assert_eq!(open_stream(cipher(), nonce, stream).unwrap(), data);
        enc
    }

    /// Vectors produced by the real Go code path (golang.org/x/crypto/argon2 IDKey +
    /// github.com/secure-io/sio-go v0.3.1 AES_256_GCM EncryptWriter, as madmin-go's
    /// EncryptData uses them) with the same password, salt and nonce.
    #[test]
    fn matches_go_sio_output() {
        let nonce = [9u8; STREAM_NONCE_LEN];
        let short = seal_stream(
            cipher(),
            &SALT,
            &nonce,
            br#"{"secretKey":"app-secret-456","status":"enabled"}"#,
        )
        .unwrap();
        assert_eq!(
            hex::encode(&short),
            "0707070707070707070707070707070707070707070707070707070707070707000909090909090909\
             d03fff91479d5a9a11762a186d91121ef0000ffbfa3800daf91ddf4994776efac351fca7bf17c70ea5\
             94a92ee8b1968848c373446fb2c2c7d775e40abd9d115642"
        );
        for (len, sha256_hex) in [
            (
                0,
                "fa9cde9839ab63fb29b0bfe423eaa14807f94cf32275473622179441716867fa",
            ),
            (
                BUF_SIZE,
                "48f315c8bfb14af20a19e67002bf02874f231384f02c02d6a0cbbc82ceca7642",
            ),
            (
                3 * BUF_SIZE + 7,
                "180cd34395da124e88ad65e5d0a76ca6b04cf182cd7c3755d1fabf63b3fe4ab7",
            ),
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let enc = seal_stream(cipher(), &SALT, &nonce, &data).unwrap();
            assert_eq!(
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&enc)),
                sha256_hex,
                "len {len}"
            );
        }
    }

    #[test]
    fn round_trip_of_various_sizes() {
        // Sizes around the 16 KiB fragment boundary exercise the final-fragment rule.
        for len in [
            0,
            1,
            100,
            BUF_SIZE - 1,
            BUF_SIZE,
            BUF_SIZE + 1,
            2 * BUF_SIZE,
            3 * BUF_SIZE + 7,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let enc = round_trip(&data, &[9u8; STREAM_NONCE_LEN]);
            let fragments = len.div_ceil(BUF_SIZE).max(1);
            assert_eq!(
                enc.len(),
                HEADER_LEN + len + fragments * TAG_LEN,
                "len {len}"
            );
        }
    }

    #[test]
    fn public_api_round_trip_with_random_salt_and_nonce() {
        let json = br#"{"secretKey":"app-secret-456","status":"enabled"}"#;
        let a = encrypt_data(PASSWORD, json).unwrap();
        assert_eq!(decrypt_data(PASSWORD, &a).unwrap(), json);
        assert!(!a.windows(b"app-secret".len()).any(|w| w == b"app-secret"));
        let b = seal_stream(cipher(), &SALT, &[1; STREAM_NONCE_LEN], json).unwrap();
        assert_ne!(a[..HEADER_LEN], b[..HEADER_LEN]);
    }

    #[test]
    fn wrong_password_is_detected() {
        let enc = seal_stream(cipher(), &SALT, &[2; STREAM_NONCE_LEN], b"data").unwrap();
        assert!(decrypt_data("another-password", &enc).is_err());
    }

    #[test]
    fn tampering_and_truncation_are_detected() {
        let nonce = [2u8; STREAM_NONCE_LEN];
        let data = vec![42u8; BUF_SIZE + 10];
        let enc = seal_stream(cipher(), &SALT, &nonce, &data).unwrap();
        let stream = &enc[HEADER_LEN..];
        let mut flipped = stream.to_vec();
        flipped[5] ^= 1;
        assert!(open_stream(cipher(), &nonce, &flipped).is_err());
        assert!(open_stream(cipher(), &[3u8; STREAM_NONCE_LEN], stream).is_err());
        // Dropping the final fragment must not decrypt as a shorter valid stream.
        assert!(open_stream(cipher(), &nonce, &stream[..BUF_SIZE + TAG_LEN]).is_err());
        assert!(open_stream(cipher(), &nonce, &stream[..stream.len() - 1]).is_err());
        assert!(split_header(&enc[..10]).is_err());
    }

    #[test]
    fn other_schemes_are_refused_before_any_work() {
        let mut enc = seal_stream(cipher(), &SALT, &[2; STREAM_NONCE_LEN], b"data").unwrap();
        enc[SALT_LEN] = 0x07;
        let err = decrypt_data(PASSWORD, &enc).unwrap_err().to_string();
        assert!(err.contains("unknown admin encryption scheme 7"), "{err}");
    }
}
