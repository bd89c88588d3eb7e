package s3store

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseBucketARN returns the bucket an S3 bucket ARN names:
// "arn:aws:s3:::my-bucket" gives "my-bucket". The partition may be any
// ("aws", "aws-cn", "aws-us-gov"); the region and account fields must be
// empty, as they are in every bucket ARN; the bucket name must follow S3's
// rules (see ValidateBucketName).
func ParseBucketARN(arn string) (string, error) {
	const hint = "want arn:aws:s3:::<bucket>"
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", fmt.Errorf("bucket ARN %q is not an ARN: %s", arn, hint)
	}
	partition, service, region, account, resource := parts[1], parts[2], parts[3], parts[4], parts[5]
	if partition == "" || strings.Trim(partition, "abcdefghijklmnopqrstuvwxyz-") != "" {
		return "", fmt.Errorf("bucket ARN %q has partition %q: %s", arn, partition, hint)
	}
	if service != "s3" {
		return "", fmt.Errorf("bucket ARN %q names service %q, not s3: %s", arn, service, hint)
	}
	if region != "" || account != "" {
		return "", fmt.Errorf("bucket ARN %q has a region or account field; bucket ARNs leave both empty: %s", arn, hint)
	}
	if err := ValidateBucketName(resource); err != nil {
		return "", fmt.Errorf("bucket ARN %q: %w", arn, err)
	}
	return resource, nil
}

// ValidateBucketName checks S3's bucket naming rules: 3 to 63 characters of
// lowercase letters, digits, '.' and '-'; beginning and ending with a letter
// or digit; no two adjacent periods; not formatted as an IPv4 address.
func ValidateBucketName(name string) error {
	const rules = "3 to 63 lowercase letters, digits, '.' and '-', beginning and ending with a letter or digit"
	if n := len(name); n < 3 || n > 63 {
		return fmt.Errorf("bucket name %q has %d characters: want %s", name, n, rules)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLowerAlnum(c) && c != '.' && c != '-' {
			return fmt.Errorf("bucket name %q has %q at position %d: want %s", name, c, i, rules)
		}
	}
	if !isLowerAlnum(name[0]) || !isLowerAlnum(name[len(name)-1]) {
		return fmt.Errorf("bucket name %q must begin and end with a letter or digit: want %s", name, rules)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("bucket name %q has two adjacent periods", name)
	}
	if addr, err := netip.ParseAddr(name); err == nil && addr.Is4() {
		return fmt.Errorf("bucket name %q is formatted as an IP address", name)
	}
	return nil
}

func isLowerAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}
