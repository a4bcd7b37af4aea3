//! Reading a wheel's `*.dist-info/METADATA` without downloading the wheel: the zip central
//! directory is read from the file's tail with HTTP range requests, then the one entry.
//! Servers that refuse ranges get a full download, read with the `zip` crate.

use std::io::{Read, Seek};

use url::Url;

use crate::http::{ByteRange, HttpClient, HttpError};

/// Bytes asked for first: enough for the central directory of almost every wheel.
const TAIL: u64 = 64 * 1024;
/// A METADATA file larger than this is refused (zip bombs, hostile servers).
const MAX_METADATA: u64 = 16 * 1024 * 1024;

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;

/// Why METADATA could not be read.
#[derive(Debug)]
pub(crate) enum ZipReadError {
    /// The transfer failed.
    Http(HttpError),
    /// The bytes are not a usable wheel.
    Invalid(String),
}

impl From<HttpError> for ZipReadError {
    fn from(err: HttpError) -> Self {
        ZipReadError::Http(err)
    }
}

fn invalid(reason: impl Into<String>) -> ZipReadError {
    ZipReadError::Invalid(reason.into())
}

/// The METADATA of the wheel at `url`, preferring `<dist_info_dir>/METADATA`.
pub(crate) async fn metadata_by_range(
    http: &HttpClient,
    url: &Url,
    dist_info_dir: &str,
) -> Result<Vec<u8>, ZipReadError> {
    match metadata_by_range_only(http, url, dist_info_dir).await {
        Ok(bytes) => Ok(bytes),
        Err(RangeOutcome::WholeFile(body)) => metadata_from_bytes(body, dist_info_dir).await,
        Err(RangeOutcome::Refused) => {
            let (_, _, body) = http.get_bytes(url).await?;
            metadata_from_bytes(body, dist_info_dir).await
        }
        Err(RangeOutcome::Failed(err)) => Err(err),
    }
}

/// How the range path ended when it did not give METADATA.
enum RangeOutcome {
    /// The server ignored the range and sent everything.
    WholeFile(Vec<u8>),
    /// Ranges are refused or the layout is beyond this reader: download the file.
    Refused,
    /// A real failure (offline, 404, auth, …).
    Failed(ZipReadError),
}

impl From<HttpError> for RangeOutcome {
    fn from(err: HttpError) -> Self {
        match err {
            // A 4xx other than 401/403/404 (those have their own variants) means "no ranges".
            HttpError::Status { status, .. } if status < 500 => RangeOutcome::Refused,
            HttpError::TooLarge { .. } => RangeOutcome::Refused,
            err => RangeOutcome::Failed(ZipReadError::Http(err)),
        }
    }
}

/// Bytes of the file held in memory, starting at `start`.
struct Window {
    start: u64,
    bytes: Vec<u8>,
}

impl Window {
    fn slice(&self, start: u64, len: u64) -> Option<&[u8]> {
        let offset = usize::try_from(start.checked_sub(self.start)?).ok()?;
        let end = offset.checked_add(usize::try_from(len).ok()?)?;
        self.bytes.get(offset..end)
    }
}

async fn fetch(
    http: &HttpClient,
    url: &Url,
    window: &Window,
    start: u64,
    len: u64,
) -> Result<Vec<u8>, RangeOutcome> {
    if let Some(bytes) = window.slice(start, len) {
        return Ok(bytes.to_vec());
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    let response = http
        .get_range(url, ByteRange::FromTo(start, start + len - 1))
        .await?;
    match response.content_range {
        None => Err(RangeOutcome::WholeFile(response.body)),
        Some(range) if range.start == start && response.body.len() as u64 >= len => {
            let mut body = response.body;
            body.truncate(len as usize);
            Ok(body)
        }
        Some(_) => Err(RangeOutcome::Refused),
    }
}

async fn metadata_by_range_only(
    http: &HttpClient,
    url: &Url,
    dist_info_dir: &str,
) -> Result<Vec<u8>, RangeOutcome> {
    let tail = http.get_range(url, ByteRange::Last(TAIL)).await?;
    let Some(range) = tail.content_range else {
        return Err(RangeOutcome::WholeFile(tail.body));
    };
    let window = Window {
        start: range.start,
        bytes: tail.body,
    };
    let total = range.total.unwrap_or(range.end + 1);
    let (cd_offset, cd_size) =
        find_central_directory(&window, total).ok_or(RangeOutcome::Refused)?;
    if cd_size > 64 * 1024 * 1024 {
        return Err(RangeOutcome::Refused);
    }
    let central = fetch(http, url, &window, cd_offset, cd_size).await?;
    let entry = find_metadata_entry(&central, dist_info_dir)
        .map_err(|reason| RangeOutcome::Failed(invalid(reason)))?;
    if entry.uncompressed > MAX_METADATA || entry.compressed > MAX_METADATA {
        return Err(RangeOutcome::Failed(invalid(
            "its METADATA file is too large",
        )));
    }
    // The local header's extra field may differ from the central one: leave some slack.
    let guess = 30 + entry.name_len + entry.extra_len + entry.compressed + 1024;
    let guess = guess.min(total.saturating_sub(entry.local_offset));
    let mut local = fetch(http, url, &window, entry.local_offset, guess).await?;
    if read_u32(&local, 0) != Some(LOCAL_SIG) {
        return Err(RangeOutcome::Failed(invalid(
            "a local file header is missing where the central directory points",
        )));
    }
    let name_len = u64::from(read_u16(&local, 26).unwrap_or(0));
    let extra_len = u64::from(read_u16(&local, 28).unwrap_or(0));
    let data_start = 30 + name_len + extra_len;
    let needed = data_start + entry.compressed;
    if (local.len() as u64) < needed {
        local = fetch(http, url, &window, entry.local_offset, needed).await?;
    }
    let data = local
        .get(data_start as usize..needed as usize)
        .ok_or_else(|| RangeOutcome::Failed(invalid("its METADATA entry is cut short")))?;
    decompress(data, &entry).map_err(RangeOutcome::Failed)
}

/// `(offset, size)` of the central directory, from the end-of-central-directory record (or
/// its zip64 variant) found in `window`.
fn find_central_directory(window: &Window, total: u64) -> Option<(u64, u64)> {
    let bytes = &window.bytes;
    if bytes.len() < 22 {
        return None;
    }
    let lowest = bytes.len().saturating_sub(22 + 65535);
    let eocd = (lowest..=bytes.len() - 22)
        .rev()
        .find(|&i| read_u32(bytes, i) == Some(EOCD_SIG))?;
    let entries = read_u16(bytes, eocd + 10)?;
    let mut cd_size = u64::from(read_u32(bytes, eocd + 12)?);
    let mut cd_offset = u64::from(read_u32(bytes, eocd + 16)?);
    if entries == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        let locator = eocd.checked_sub(20)?;
        if read_u32(bytes, locator) != Some(ZIP64_LOCATOR_SIG) {
            return None;
        }
        let record = read_u64(bytes, locator + 8)?;
        let record = window.slice(record, 56)?;
        if read_u32(record, 0) != Some(ZIP64_EOCD_SIG) {
            return None;
        }
        cd_size = read_u64(record, 40)?;
        cd_offset = read_u64(record, 48)?;
    }
    (cd_offset.checked_add(cd_size)? <= total).then_some((cd_offset, cd_size))
}

/// One central directory entry, the parts needed to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    method: u16,
    crc32: u32,
    compressed: u64,
    uncompressed: u64,
    name_len: u64,
    extra_len: u64,
    local_offset: u64,
}

/// The entry of `<dir>.dist-info/METADATA` in a central directory, `dist_info_dir` first.
fn find_metadata_entry(central: &[u8], dist_info_dir: &str) -> Result<Entry, String> {
    let mut pos = 0usize;
    let mut found: Vec<(String, Entry)> = Vec::new();
    while read_u32(central, pos) == Some(CENTRAL_SIG) {
        let field16 = |at| read_u16(central, pos + at).map(u64::from);
        let field32 = |at| read_u32(central, pos + at).map(u64::from);
        let truncated = || "its central directory is cut short".to_string();
        let method = read_u16(central, pos + 10).ok_or_else(truncated)?;
        let crc32 = read_u32(central, pos + 16).ok_or_else(truncated)?;
        let mut compressed = field32(20).ok_or_else(truncated)?;
        let mut uncompressed = field32(24).ok_or_else(truncated)?;
        let name_len = field16(28).ok_or_else(truncated)?;
        let extra_len = field16(30).ok_or_else(truncated)?;
        let comment_len = field16(32).ok_or_else(truncated)?;
        let mut local_offset = field32(42).ok_or_else(truncated)?;
        let name_start = pos + 46;
        let name = central
            .get(name_start..name_start + name_len as usize)
            .ok_or_else(truncated)?;
        let extra_start = name_start + name_len as usize;
        let extra = central
            .get(extra_start..extra_start + extra_len as usize)
            .ok_or_else(truncated)?;
        let name = String::from_utf8_lossy(name).into_owned();
        let is_metadata = name
            .strip_suffix(".dist-info/METADATA")
            .is_some_and(|dir| !dir.is_empty() && !dir.contains(['/', '\\']));
        if is_metadata {
            apply_zip64_extra(extra, &mut uncompressed, &mut compressed, &mut local_offset);
            found.push((
                name,
                Entry {
                    method,
                    crc32,
                    compressed,
                    uncompressed,
                    name_len,
                    extra_len,
                    local_offset,
                },
            ));
        }
        pos = extra_start + extra_len as usize + comment_len as usize;
    }
    let wanted = format!("{dist_info_dir}/METADATA");
    let index = found
        .iter()
        .position(|(name, _)| name.eq_ignore_ascii_case(&wanted))
        .or_else(|| (found.len() == 1).then_some(0));
    match index {
        Some(index) => Ok(found.swap_remove(index).1),
        None if found.is_empty() => Err("it has no .dist-info/METADATA file".to_string()),
        None => Err(format!(
            "it has several .dist-info/METADATA files and none is {wanted}"
        )),
    }
}

/// Replace 32-bit sentinel values with those of the zip64 extra field (id 0x0001).
fn apply_zip64_extra(extra: &[u8], uncompressed: &mut u64, compressed: &mut u64, offset: &mut u64) {
    let mut pos = 0;
    while let (Some(id), Some(len)) = (read_u16(extra, pos), read_u16(extra, pos + 2)) {
        let data_start = pos + 4;
        let data_end = data_start + len as usize;
        if id == 1 {
            let Some(data) = extra.get(data_start..data_end) else {
                return;
            };
            let mut at = 0;
            for field in [uncompressed, compressed, offset] {
                if *field == 0xFFFF_FFFF {
                    match read_u64(data, at) {
                        Some(value) => *field = value,
                        None => return,
                    }
                    at += 8;
                }
            }
            return;
        }
        pos = data_end;
    }
}

fn decompress(data: &[u8], entry: &Entry) -> Result<Vec<u8>, ZipReadError> {
    let bytes = match entry.method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_METADATA + 1)
                .read_to_end(&mut out)
                .map_err(|err| invalid(format!("its METADATA entry cannot be inflated ({err})")))?;
            out
        }
        other => {
            return Err(invalid(format!(
                "its METADATA entry uses the unsupported compression method {other}"
            )));
        }
    };
    if bytes.len() as u64 != entry.uncompressed {
        return Err(invalid("its METADATA entry has the wrong size"));
    }
    let mut crc = flate2::Crc::new();
    crc.update(&bytes);
    if crc.sum() != entry.crc32 {
        return Err(invalid("its METADATA entry fails its CRC check"));
    }
    Ok(bytes)
}

/// METADATA from a whole wheel held in memory.
pub(crate) async fn metadata_from_bytes(
    body: Vec<u8>,
    dist_info_dir: &str,
) -> Result<Vec<u8>, ZipReadError> {
    let dir = dist_info_dir.to_string();
    tokio::task::spawn_blocking(move || metadata_from_zip(std::io::Cursor::new(body), &dir))
        .await
        .map_err(|err| invalid(format!("reading it was interrupted ({err})")))?
}

/// METADATA from a wheel readable with `zip` (a local file or a downloaded body).
pub(crate) fn metadata_from_zip<R: Read + Seek>(
    reader: R,
    dist_info_dir: &str,
) -> Result<Vec<u8>, ZipReadError> {
    let mut archive = zip::ZipArchive::new(reader)
        .map_err(|err| invalid(format!("it is not a readable zip archive ({err})")))?;
    let wanted = format!("{dist_info_dir}/METADATA");
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| name.into_owned())
        .filter(|name| {
            name.strip_suffix(".dist-info/METADATA")
                .is_some_and(|dir| !dir.is_empty() && !dir.contains(['/', '\\']))
        })
        .collect();
    let name = names
        .iter()
        .find(|name| name.eq_ignore_ascii_case(&wanted))
        .or_else(|| (names.len() == 1).then(|| &names[0]))
        .ok_or_else(|| invalid(format!("it has no usable {wanted} file")))?
        .clone();
    let file = archive
        .by_name(&name)
        .map_err(|err| invalid(format!("its {name} cannot be read ({err})")))?;
    let mut bytes = Vec::new();
    file.take(MAX_METADATA + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| invalid(format!("its {name} cannot be read ({err})")))?;
    if bytes.len() as u64 > MAX_METADATA {
        return Err(invalid("its METADATA file is too large"));
    }
    Ok(bytes)
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    let mut array = [0u8; 8];
    array.copy_from_slice(b);
    Some(u64::from_le_bytes(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A wheel-like zip with `files`, deflated or stored.
    fn make_zip(files: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut writer = zip::ZipWriter::new(&mut out);
            let method = if deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let options = zip::write::SimpleFileOptions::default().compression_method(method);
            for (name, data) in files {
                writer.start_file(*name, options).unwrap();
                writer.write_all(data).unwrap();
            }
            writer.finish().unwrap();
        }
        out.into_inner()
    }

    fn whole(bytes: &[u8]) -> Window {
        Window {
            start: 0,
            bytes: bytes.to_vec(),
        }
    }

    /// The range path over an in-memory file.
    fn read_in_memory(bytes: &[u8], dir: &str) -> Result<Vec<u8>, ZipReadError> {
        let window = whole(bytes);
        let (offset, size) = find_central_directory(&window, bytes.len() as u64)
            .ok_or_else(|| invalid("no central directory"))?;
        let central = window
            .slice(offset, size)
            .ok_or_else(|| invalid("central directory outside"))?;
        let entry = find_metadata_entry(central, dir).map_err(ZipReadError::Invalid)?;
        let local = &bytes[entry.local_offset as usize..];
        let n = read_u16(local, 26).unwrap() as usize;
        let e = read_u16(local, 28).unwrap() as usize;
        decompress(
            &local[30 + n + e..30 + n + e + entry.compressed as usize],
            &entry,
        )
    }

    #[test]
    fn reads_metadata_stored_and_deflated() {
        let metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n".repeat(20);
        for deflate in [false, true] {
            let zip = make_zip(
                &[
                    ("demo/__init__.py", b"x = 1\n"),
                    ("demo-1.0.dist-info/METADATA", &metadata),
                    ("demo-1.0.dist-info/RECORD", b""),
                ],
                deflate,
            );
            assert_eq!(
                read_in_memory(&zip, "demo-1.0.dist-info").unwrap(),
                metadata
            );
            let via_zip = metadata_from_zip(std::io::Cursor::new(zip), "demo-1.0.dist-info");
            assert_eq!(via_zip.unwrap(), metadata);
        }
    }

    #[test]
    fn picks_the_expected_dist_info() {
        let zip = make_zip(
            &[
                ("other-2.0.dist-info/METADATA", b"other"),
                ("Demo-1.0.dist-info/METADATA", b"demo"),
                ("nested/x-1.0.dist-info/METADATA", b"nested"),
            ],
            true,
        );
        assert_eq!(read_in_memory(&zip, "demo-1.0.dist-info").unwrap(), b"demo");
        assert!(read_in_memory(&zip, "zzz-1.0.dist-info").is_err());
        let single = make_zip(&[("Demo_X-1.0.dist-info/METADATA", b"m")], false);
        assert_eq!(
            read_in_memory(&single, "demo_x-1.0.dist-info").unwrap(),
            b"m"
        );
    }

    #[test]
    fn garbage_truncated_and_hostile() {
        let zip = make_zip(&[("demo-1.0.dist-info/METADATA", b"meta")], false);
        let rows: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"not a zip".to_vec(),
            zip[..zip.len() / 2].to_vec(),
            zip[..zip.len() - 3].to_vec(),
            make_zip(&[("../demo-1.0.dist-info/METADATA", b"x")], false),
            make_zip(&[("demo/METADATA", b"x")], false),
        ];
        for bytes in rows {
            assert!(read_in_memory(&bytes, "demo-1.0.dist-info").is_err());
            assert!(metadata_from_zip(std::io::Cursor::new(bytes), "demo-1.0.dist-info").is_err());
        }
        // A corrupted entry fails its CRC.
        let mut bad = zip.clone();
        let at = bad.windows(4).position(|w| w == b"meta").unwrap();
        bad[at] = b'M';
        assert!(read_in_memory(&bad, "demo-1.0.dist-info").is_err());
    }

    #[test]
    fn window_slices() {
        let window = Window {
            start: 100,
            bytes: vec![1, 2, 3, 4],
        };
        assert_eq!(window.slice(101, 2), Some(&[2u8, 3][..]));
        assert_eq!(window.slice(99, 2), None);
        assert_eq!(window.slice(103, 2), None);
        assert_eq!(window.slice(u64::MAX, 2), None);
    }
}
