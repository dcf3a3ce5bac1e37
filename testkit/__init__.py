"""The one test kit of the project's Python tests and tools: the paths (`paths`), waits and
process control (`waits`), one MinIO server (`minio`), one seeder call (`seeder`), the WASI HTTP
hosts serving the component (`hosts`), a loopback proxy that breaks connections (`proxy`), the
e2e cluster's helpers (`cluster`) and the background load generators (`load`).

Fixtures live in the conftests; everything they and the tests share lives here. `paths`, `waits`,
`minio` and `seeder` use the standard library only, so the scripts that run under the system's
python3 (scripts/k8s/*.py, `make run`) can import them."""
