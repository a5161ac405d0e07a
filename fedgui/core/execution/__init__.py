"""Running a compute package's code: Python environments, the entry-point runner, its errors
and output checks, metric lines and the process tree."""
