use ks_core::{Cause, FieldPath, Fix, RuleKind, Severity, declare_rule};

use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Annotations on a `type: LoadBalancer` Service that pin the cloud load balancer to
    /// one account, region or instance: a fixed instance spec or billing mode (Alibaba
    /// `alibaba-cloud-loadbalancer-spec`), an existing load balancer's id (Alibaba, Tencent,
    /// Huawei, DigitalOcean), a certificate, ACL, security group or subnet id, an Elastic IP
    /// allocation or a fixed public IP (AWS, Azure, GKE). Annotations that only choose
    /// behaviour (internal vs public, health checks, protocols) are not reported. The table
    /// of annotations is data in this rule's source.
    ///
    /// ### Why it breaks
    /// The cloud controller manager treats the annotation as the truth and reconciles the
    /// real load balancer towards it. When the real resource differs (the instance was
    /// created pay-by-CLCU, resized in the console, the certificate was renewed under a new
    /// id) the controller reports a mismatch or changes the resource; in another account,
    /// region or a recreated cluster the id does not exist, and the Service stays
    /// `EXTERNAL-IP <pending>` with `EnsuringLoadBalancer` / `SyncLoadBalancerFailed`
    /// events, or two clusters fight over one load balancer.
    ///
    /// ### How to confirm
    /// `kubectl get svc NAME -n NS -o jsonpath='{.metadata.annotations}'` and
    /// `kubectl describe svc NAME -n NS` (events of the cloud controller); compare with the
    /// load balancer in the provider's console.
    ///
    /// ### Fix
    /// Remove the annotation and let the cloud controller track the load balancer it
    /// created, or move it into the one environment's overlay or values file where that id
    /// exists.
    ///
    /// ### Prevention
    /// Keep provider ids out of base manifests and charts' default values; pin an
    /// existing load balancer only in a per-environment overlay.
    ///
    /// ### Example
    /// Seed 003 (S3.10): `service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec:
    /// slb.s1.small` on the ingress-nginx controller Service while the real CLB was a
    /// PayByCLCU instance; the ACK console warned that the billing mode did not match the
    /// instance.
    pub static META = {
        id: "KS1205",
        name: "provider-lb-annotation-pinned",
        cause: Cause::EnvProviderAnnotation,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a Service annotation pins its cloud load balancer to one account, region or instance",
    }
}

pub struct ProviderLbAnnotationPinned;

/// Which values of an annotation pin something.
#[derive(Clone, Copy, Debug)]
pub enum Pins {
    /// Any non-empty value.
    Any,
    /// A value containing one of these (ids in a list that may also hold portable names).
    Contains(&'static [&'static str]),
}

/// One pinning annotation.
pub struct Pinning {
    pub key: &'static str,
    pub provider: &'static str,
    /// What it pins, for the title: "the CLB instance spec".
    pub what: &'static str,
    pub pins: Pins,
    /// What breaks, one sentence.
    pub breaks: &'static str,
}

/// Annotation names from the providers' cloud-controller-manager documentation.
pub static PINNING: &[Pinning] = &[
    // Alibaba Cloud (ACK cloud-provider-alibaba-cloud).
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec",
        provider: "Alibaba Cloud",
        what: "the CLB instance spec",
        pins: Pins::Any,
        breaks: "the CCM compares it with the real CLB: an instance created pay-by-CLCU or resized since disagrees (the ACK console warns that the billing mode does not match the instance), and later changes to the Service can fail or resize the instance",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-instance-charge-type",
        provider: "Alibaba Cloud",
        what: "the CLB billing mode",
        pins: Pins::Any,
        breaks: "the CCM compares it with the real CLB's billing mode and reports or tries to change a mismatch",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id",
        provider: "Alibaba Cloud",
        what: "an existing CLB instance",
        pins: Pins::Any,
        breaks: "the instance exists in one account and region only: elsewhere the Service stays pending, and two clusters applying it share one CLB's listeners",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-vswitch-id",
        provider: "Alibaba Cloud",
        what: "a vSwitch",
        pins: Pins::Any,
        breaks: "the vSwitch belongs to one VPC and zone: in another cluster's VPC the CLB cannot be created",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-cert-id",
        provider: "Alibaba Cloud",
        what: "a certificate id",
        pins: Pins::Any,
        breaks: "the certificate id belongs to one account and region, and a renewed certificate gets a new id",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-acl-id",
        provider: "Alibaba Cloud",
        what: "an access control list id",
        pins: Pins::Any,
        breaks: "the ACL id belongs to one account and region",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-master-zoneid",
        provider: "Alibaba Cloud",
        what: "a zone",
        pins: Pins::Any,
        breaks: "zone ids belong to one region",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-slave-zoneid",
        provider: "Alibaba Cloud",
        what: "a zone",
        pins: Pins::Any,
        breaks: "zone ids belong to one region",
    },
    Pinning {
        key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-zone-maps",
        provider: "Alibaba Cloud",
        what: "NLB zones and vSwitches",
        pins: Pins::Any,
        breaks: "the vSwitch ids belong to one VPC",
    },
    // Azure (cloud-provider-azure).
    Pinning {
        key: "service.beta.kubernetes.io/azure-load-balancer-ipv4",
        provider: "Azure",
        what: "a fixed IP address",
        pins: Pins::Any,
        breaks: "the address must be a public IP resource in the cluster's node resource group (or the one named by azure-load-balancer-resource-group) of one subscription and region; elsewhere the Service stays pending",
    },
    Pinning {
        key: "service.beta.kubernetes.io/azure-load-balancer-ipv6",
        provider: "Azure",
        what: "a fixed IP address",
        pins: Pins::Any,
        breaks: "the address must be a public IP resource of one subscription and region; elsewhere the Service stays pending",
    },
    Pinning {
        key: "service.beta.kubernetes.io/azure-pip-name",
        provider: "Azure",
        what: "a named public IP resource",
        pins: Pins::Any,
        breaks: "the public IP resource exists in one resource group; elsewhere the Service stays pending",
    },
    Pinning {
        key: "service.beta.kubernetes.io/azure-pip-prefix-id",
        provider: "Azure",
        what: "a public IP prefix resource",
        pins: Pins::Any,
        breaks: "the resource id names one subscription and resource group",
    },
    Pinning {
        key: "service.beta.kubernetes.io/azure-load-balancer-resource-group",
        provider: "Azure",
        what: "a resource group",
        pins: Pins::Any,
        breaks: "the resource group exists in one subscription",
    },
    // AWS (cloud-provider-aws and the AWS Load Balancer Controller).
    Pinning {
        key: "service.beta.kubernetes.io/aws-load-balancer-eip-allocations",
        provider: "AWS",
        what: "Elastic IP allocations",
        pins: Pins::Any,
        breaks: "the allocations exist in one account and region, and their number must match the load balancer's subnets; elsewhere the NLB is not created",
    },
    Pinning {
        key: "service.beta.kubernetes.io/aws-load-balancer-subnets",
        provider: "AWS",
        what: "subnet ids",
        pins: Pins::Contains(&["subnet-"]),
        breaks: "subnet ids belong to one VPC; subnet names (Name tags) or auto-discovery keep the manifest portable",
    },
    Pinning {
        key: "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
        provider: "AWS",
        what: "an ACM certificate ARN",
        pins: Pins::Contains(&["arn:"]),
        breaks: "the ARN names one account and region; in another the listener cannot be created",
    },
    Pinning {
        key: "service.beta.kubernetes.io/aws-load-balancer-security-groups",
        provider: "AWS",
        what: "security group ids",
        pins: Pins::Contains(&["sg-"]),
        breaks: "security group ids belong to one VPC",
    },
    Pinning {
        key: "service.beta.kubernetes.io/aws-load-balancer-extra-security-groups",
        provider: "AWS",
        what: "security group ids",
        pins: Pins::Contains(&["sg-"]),
        breaks: "security group ids belong to one VPC",
    },
    Pinning {
        key: "service.beta.kubernetes.io/aws-load-balancer-private-ipv4-addresses",
        provider: "AWS",
        what: "fixed private IP addresses",
        pins: Pins::Any,
        breaks: "the addresses must lie in the chosen subnets of one VPC",
    },
    // DigitalOcean.
    Pinning {
        key: "kubernetes.digitalocean.com/load-balancer-id",
        provider: "DigitalOcean",
        what: "an existing load balancer",
        pins: Pins::Any,
        breaks: "the cloud controller writes this id on the live Service itself; copied into a manifest, it makes a recreated or second cluster manage that one load balancer of one account, or fail when it does not exist",
    },
    Pinning {
        key: "service.beta.kubernetes.io/do-loadbalancer-certificate-id",
        provider: "DigitalOcean",
        what: "a certificate id",
        pins: Pins::Any,
        breaks: "a Let's Encrypt certificate gets a new id at every renewal, after which the load balancer update fails; do-loadbalancer-certificate-name survives renewals",
    },
    // Google Cloud.
    Pinning {
        key: "networking.gke.io/load-balancer-ip-addresses",
        provider: "Google Cloud",
        what: "reserved IP addresses",
        pins: Pins::Any,
        breaks: "the reserved addresses exist in one project and region",
    },
    // Tencent Cloud and Huawei Cloud.
    Pinning {
        key: "service.kubernetes.io/tke-existed-lbid",
        provider: "Tencent Cloud",
        what: "an existing CLB instance",
        pins: Pins::Any,
        breaks: "the instance exists in one account and region",
    },
    Pinning {
        key: "kubernetes.io/elb.id",
        provider: "Huawei Cloud",
        what: "an existing ELB instance",
        pins: Pins::Any,
        breaks: "the instance exists in one account and region",
    },
];

/// The table entry for an annotation whose value pins something.
pub fn pinning(key: &str, value: &str) -> Option<&'static Pinning> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    PINNING.iter().find(|p| {
        p.key == key
            && match p.pins {
                Pins::Any => true,
                Pins::Contains(marks) => marks.iter().any(|m| value.contains(m)),
            }
    })
}

impl Rule for ProviderLbAnnotationPinned {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for doc in cx.ev.manifests.iter().filter(|d| d.kind == "Service") {
            // The annotations only act on load balancers; on other types they are inert.
            if doc.value["spec"]["type"].as_str() != Some("LoadBalancer") {
                continue;
            }
            let Some(annotations) = doc.value["metadata"]["annotations"].as_object() else { continue };
            for (key, value) in annotations {
                let Some(value) = value.as_str() else { continue };
                let Some(p) = pinning(key, value) else { continue };
                let path = FieldPath::default().key("metadata").key("annotations").key(key.as_str());
                let ns = doc.namespace.as_deref().map(|n| format!("-n {n} ")).unwrap_or_default();
                let mut f = doc_finding(
                    &META,
                    doc,
                    &path,
                    format!("{} hard-codes {} ({key}: {value})", doc_name(doc), p.what),
                    format!(
                        "The {} annotation `{key}: {value}` on {} pins {}: {}.",
                        p.provider,
                        doc_name(doc),
                        p.what,
                        p.breaks
                    ),
                );
                f.fix.push(Fix::text(format!(
                    "Remove `{key}` from {} ({}) and let the cloud controller track the load balancer it manages; if one environment needs it, set it only in that environment's overlay or values file",
                    doc_name(doc),
                    doc.file
                )));
                f.fix.push(Fix::cmd(
                    "and from the live Service (the existing load balancer and its address are kept)",
                    format!("kubectl {ns}annotate service {} {key}-", doc.name),
                ));
                f.root_key = format!("KS1205:{}:{key}", doc.key_string());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pinning_values_match() {
        assert!(pinning("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec", "slb.s1.small").is_some());
        assert!(
            pinning("service.beta.kubernetes.io/aws-load-balancer-subnets", "subnet-0a1b2c3d,subnet-4e5f").is_some()
        );
        // Subnet names are looked up by tag in each VPC: portable.
        assert!(pinning("service.beta.kubernetes.io/aws-load-balancer-subnets", "public-a,public-b").is_none());
        assert!(pinning("service.beta.kubernetes.io/aws-load-balancer-type", "nlb").is_none());
        assert!(pinning("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type", "internet").is_none());
        assert!(pinning("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id", " ").is_none());
        let keys: std::collections::HashSet<&str> = PINNING.iter().map(|p| p.key).collect();
        assert_eq!(keys.len(), PINNING.len(), "one entry per annotation");
    }
}
