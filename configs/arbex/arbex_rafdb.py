# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Short name of arbex_posterv2_8xb32-285e_rafdb.py (ARBEx on RAF-DB, the
# paper's recipe), kept for the command in the project's instructions:
#   tools/dist_train.sh configs/arbex/arbex_rafdb.py 8
# It adds nothing; edit the full-named config.
_base_ = ['./arbex_posterv2_8xb32-285e_rafdb.py']
