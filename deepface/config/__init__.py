"""deepface's tables: decision thresholds, embedding ranges, confidence calibration."""
