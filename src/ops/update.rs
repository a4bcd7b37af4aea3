//! `plonk update`: fetch every configured index in parallel and write the index cache. An
//! index that fails is reported and skipped; when every index fails the previous cache is
//! kept and the operation fails.

use crate::index::{self, IndexContext, IndexError, UpdateOutcome};

/// Updates the index cache, reporting failed indexes and skipped entries as warnings.
pub async fn update(ctx: &IndexContext<'_>) -> Result<UpdateOutcome, IndexError> {
    let outcome = index::update(ctx).await?;
    index::report_outcome(&outcome, ctx.reporter);
    if outcome.all_failed() {
        return Err(IndexError::AllFailed {
            count: outcome.indexes.len(),
        });
    }
    Ok(outcome)
}
