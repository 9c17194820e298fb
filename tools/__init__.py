"""Tools that run the project from outside: ``make run``'s supervisor and the containers' health checks."""
