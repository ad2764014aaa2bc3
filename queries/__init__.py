"""The analytics layer: pure Polars functions over the loaded frames (see ARCHITECTURE.md).

Import each function from its module (`from queries.trends import percentage_trend`). The
package imports none of its modules itself: app sessions run in threads of one process, and
a package importing its modules while another thread imported one of them directly could
deadlock Python's import locks (Python then hands one thread a half-initialised module).
"""
