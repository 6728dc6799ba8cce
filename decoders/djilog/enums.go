package djilog

import "strconv"

// typeNames name record types in counts ("records_osd"); formats §8 from DJI's
// FlightRecordDataType enum (FlightRecordProtocolEnum.h).
var typeNames = map[byte]string{
	1: "osd", 2: "home", 3: "gimbal", 4: "rc", 5: "custom", 6: "deform", 7: "center_battery",
	8: "smart_battery", 9: "app_tip", 10: "app_warn", 11: "rc_gps", 12: "rc_debug", 13: "recover",
	14: "app_gps", 15: "firmware", 16: "ofdm_debug", 17: "vision_group", 18: "vision_warning",
	19: "mc_params", 20: "app_operation", 22: "smart_battery_group", 24: "app_serious_warn",
	25: "camera", 28: "fly_forbid_db", 40: "component_serial", 50: "keychain_switch",
	56: "key_storage", 57: "airlink", 253: "summary", 254: "frame_data",
}

// typeName returns the count name of a record type, "type_N" for types without one.
func typeName(t byte) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "type_" + strconv.Itoa(int(t))
}

// productNames is the productType enum (formats §10.1, lvauvillier details.rs `ProductType`, plus
// 120 and 178 verified by the format notes).
var productNames = map[int]string{
	0: "None", 1: "Inspire 1", 2: "Phantom 3 Standard", 3: "Phantom 3 Advanced", 4: "Phantom 3 Pro",
	5: "OSMO", 6: "Matrice 100", 7: "Phantom 4", 8: "LB2", 9: "Inspire 1 Pro", 10: "A3",
	11: "Matrice 600", 12: "Phantom 3 4K", 13: "Mavic Pro", 14: "Zenmuse XT", 15: "Inspire 1 RAW",
	16: "A2", 17: "Inspire 2", 18: "OSMO Pro", 19: "OSMO Raw", 20: "OSMO Plus", 21: "Mavic",
	22: "OSMO Mobile", 23: "Orange CV600", 24: "Phantom 4 Pro", 25: "N3 FC", 26: "Spark",
	27: "Matrice 600 Pro", 28: "Phantom 4 Advanced", 29: "Phantom 3 SE", 30: "AG405",
	31: "Matrice 200", 33: "Matrice 210", 34: "Matrice 210 RTK", 38: "Mavic Air", 42: "Mavic 2",
	44: "Phantom 4 Pro V2", 46: "Phantom 4 RTK", 57: "Phantom 4 Multispectral",
	58: "Mavic 2 Enterprise", 59: "Mavic Mini", 60: "Matrice 200 V2", 61: "Matrice 210 V2",
	62: "Matrice 210 RTK V2", 67: "Mavic Air 2", 70: "Matrice 300 RTK", 73: "FPV", 75: "Air 2S",
	76: "Mini 2", 77: "Mavic 3", 96: "Mini SE", 103: "Mini 3 Pro", 111: "Mavic 3 Pro",
	113: "Mini 2 SE", 116: "Matrice 30", 118: "Mavic 3 Enterprise", 120: "Air 3", 121: "Avata",
	126: "Mini 4 Pro", 152: "Avata 2", 170: "Matrice 350 RTK", 178: "Matrice 4TD",
}

func productName(v int) string {
	if n, ok := productNames[v]; ok {
		return n
	}
	return "Unknown(" + strconv.Itoa(v) + ")"
}

// platformNames is DJI's Platform enum (formats §10.3).
var platformNames = map[int]string{0: "Unknown", 1: "iOS", 2: "Android", 6: "DJI Fly", 10: "Windows", 11: "Mac", 12: "Linux"}

func platformName(v int) string {
	if n, ok := platformNames[v]; ok {
		return n
	}
	return "Unknown(" + strconv.Itoa(v) + ")"
}

// departmentNames says which app family wrote a v13+ file (formats §10.4).
var departmentNames = map[int]string{0: "Unknown", 1: "SDK", 2: "DJI GO", 3: "DJI Fly", 4: "Agricultural machinery",
	5: "Terra", 6: "DJI Glasses", 7: "DJI Pilot", 8: "GS Pro"}

func departmentName(v int) string {
	if n, ok := departmentNames[v]; ok {
		return n
	}
	return "Unknown(" + strconv.Itoa(v) + ")"
}

// featurePoints names the KeyStorage feature points as DJI's keychain API spells them (formats
// §10.5, lvauvillier keychain/feature_point.rs).
var featurePoints = [...]string{1: "Base", 2: "Vision", 3: "Waypoint", 4: "Agriculture", 5: "AirLink",
	6: "AfterSales", 7: "DJIFlyCustom", 8: "Plaintext", 9: "FlightHub", 10: "Gimbal", 11: "RC",
	12: "Camera", 13: "Battery", 14: "FlySafe", 15: "Security"}

func featurePointName(v int) string {
	if v > 0 && v < len(featurePoints) {
		return featurePoints[v]
	}
	return "Unknown(" + strconv.Itoa(v) + ")"
}
