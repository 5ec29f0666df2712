// https://github.com/named-data/python-ndn/blob/61ae78687b3662d472024c95f1ebfc0770c3da7b/docs/src/lvs/lvs.rst#user-functions

#rule: /a/b & { b: $fn("c", a) }
