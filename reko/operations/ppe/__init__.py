"""DetectProtectiveEquipment."""
