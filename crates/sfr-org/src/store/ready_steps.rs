//! Steps written once as futures, run on a blocking connection: SQLite's writer and PostgreSQL's blocking
//! sessions answer every step at once, so one poll finishes them. PostgreSQL's non-blocking connections await the
//! same futures for real (`store::postgres::nonblocking`), and `code_exchange::run` is one such set of steps.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::StoreError;

/// The answer of `steps`, which must be ready when first polled. A future still pending would mean a waiting step
/// crept onto a blocking connection: it fails the use case (`StoreError::Internal`) rather than block or spin.
pub(crate) fn at_once<T, E: From<StoreError>>(
    steps: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    match pin!(steps).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(answer) => answer,
        Poll::Pending => Err(StoreError::Internal(
            "a statement on a blocking connection did not finish at once".into(),
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_once_answers_ready_steps_and_refuses_to_wait() {
        assert_eq!(at_once(async { Ok::<_, StoreError>(7) }), Ok(7));
        let stuck = at_once(async {
            std::future::pending::<()>().await;
            Ok::<_, StoreError>(7)
        });
        assert!(
            matches!(&stuck, Err(StoreError::Internal(m)) if m.contains("did not finish")),
            "{stuck:?}"
        );
    }
}
