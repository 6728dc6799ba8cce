package destinations

// builtinASN returns the AS table compiled into the binary. None is embedded yet: AS numbers come
// from the asn_db file named in the configuration.
func builtinASN() (*rangeTable, string, bool) { return nil, "", false }
