/** etcd's guidance (faq.md): p99 WAL fsync under 10 ms, p99 backend commit under 25 ms. Judged by doctor, tune and verify. */
export const FSYNC_P99_GOAL_S = 0.01;
export const BACKEND_COMMIT_P99_GOAL_S = 0.025;
