# test fixture: the job script asset
