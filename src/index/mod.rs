//! Plugin indexes, shared with Tutor: the configured index list (`PLUGIN_INDEXES`), index
//! files (`<base>/<release>/plugins.yml`) parsed into [`PluginEntry`]s, the merged index cache
//! (`<root>/env/plugins/index/cache.yml`, Tutor's format), and the official `main` index of
//! every release built into the binary.

mod embedded;
mod entry;
mod error;
mod fetch;
mod load;
mod location;
mod routing;
mod store;

pub use embedded::{embedded_index, embedded_index_text, embedded_releases};
pub use entry::{
    ParsedIndex, PluginEntry, SkippedEntry, lookup_entry, merge, parse_cache, parse_index,
    render_cache,
};
pub use error::IndexError;
pub use fetch::{FetchedIndex, Freshness, MAX_INDEX_SIZE, fetch_index};
pub use load::{
    EntriesOrigin, IndexContext, IndexOutcome, UpdateOutcome, error_chain, find_entry,
    load_entries, report_outcome, update,
};
pub use location::{
    CONTRIB_INDEX, IndexFile, MAIN_INDEX, abspath, expand_alias, index_file, index_file_location,
    is_http, normalize_index,
};
pub use routing::{MIRROR_KEY, route_mirror_entry};
pub use store::{
    INDEX_BUCKET, IndexConfig, IndexPaths, cache_is_for_release, read_cache, release_of_entries,
    release_of_location, write_cache,
};
