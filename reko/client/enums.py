"""The connector's two enumerations: `QualityFilter` and `AwsRegion`."""

from __future__ import annotations

from enum import StrEnum


class QualityFilter(StrEnum):
    """Which faces a face operation drops as low quality before it compares, searches or indexes.

    The values are the API's. CompareFaces and SearchFacesByImage default to NONE, IndexFaces to AUTO.

    Example:
        >>> QualityFilter.HIGH.value
        'HIGH'
    """

    NONE = "NONE"
    AUTO = "AUTO"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


# The fourteen commercial regions whose Rekognition (image) endpoint botocore 1.34.22 lists in its endpoints.json
# (the copy bundled with the Google Cloud SDK on the build machine, January 2024: the connector's era).
# botocore 1.44.8 adds four since: sa-east-1, eu-south-2, ap-southeast-5, ap-southeast-7; pass their codes as
# plain strings. Names are the region descriptions of the same file.
_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "ca-central-1": "Canada (Central)",
    "eu-central-1": "Europe (Frankfurt)",
    "eu-west-1": "Europe (Ireland)",
    "eu-west-2": "Europe (London)",
    "il-central-1": "Israel (Tel Aviv)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
}


class AwsRegion(StrEnum):
    """The connector's fourteen regions; the value is the region code boto3 takes.

    Example:
        >>> AwsRegion.EU_WEST_1.value, AwsRegion.EU_WEST_1.display_name
        ('eu-west-1', 'Europe (Ireland)')
        >>> AwsRegion("ap-south-1") is AwsRegion.AP_SOUTH_1
        True
    """

    US_EAST_1 = "us-east-1"
    US_EAST_2 = "us-east-2"
    US_WEST_1 = "us-west-1"
    US_WEST_2 = "us-west-2"
    CA_CENTRAL_1 = "ca-central-1"
    EU_CENTRAL_1 = "eu-central-1"
    EU_WEST_1 = "eu-west-1"
    EU_WEST_2 = "eu-west-2"
    IL_CENTRAL_1 = "il-central-1"
    AP_SOUTH_1 = "ap-south-1"
    AP_NORTHEAST_1 = "ap-northeast-1"
    AP_NORTHEAST_2 = "ap-northeast-2"
    AP_SOUTHEAST_1 = "ap-southeast-1"
    AP_SOUTHEAST_2 = "ap-southeast-2"

    @property
    def display_name(self) -> str:
        """The region as the AWS console names it, such as "Europe (Ireland)"."""
        return _REGION_NAMES[self.value]
