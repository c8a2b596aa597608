# test fixture: a shared module
