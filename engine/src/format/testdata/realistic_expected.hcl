# Web tier.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "subnets" {
  type = list(object({
    name   = string
    cidr   = string
    public = bool
  }))
  default = []
}

locals {
  common_tags = {
    Project   = var.project
    ManagedBy = "dumcel"
  }
  public_subnets = [for s in var.subnets : s.name if s.public]
  subnet_map     = { for s in var.subnets : s.name => s }
  instance_count = var.environment == "prod" ? 3 : 1
  azs = {
    for s in var.subnets : s.name => s.az
    if s.public
  }
  name = join("-", [
    var.project,
    var.environment,
  ])
  ingress_rules = [
    {
      from_port   = 80
      to_port     = 80
      cidr_blocks = ["0.0.0.0/0"]
    },
    {
      from_port   = 443
      to_port     = 443
      cidr_blocks = ["0.0.0.0/0"]
    },
  ]
}

resource "aws_subnet" "this" {
  for_each = local.subnet_map

  vpc_id                  = aws_vpc.main.id
  cidr_block              = each.value.cidr
  map_public_ip_on_launch = each.value.public
  tags = merge(local.common_tags, {
    Name = "subnet-${each.key}"
  })
}

resource "aws_instance" "web" {
  count         = local.instance_count
  ami           = data.aws_ami.ubuntu.id
  instance_type = var.environment == "prod" ? "m5.large" : "t3.micro"
  subnet_id     = aws_subnet.this[local.public_subnets[count.index % length(local.public_subnets)]].id
  user_data     = <<-EOT
    #!/bin/bash
      echo "hello ${ var.name }"   >   /tmp/x
  EOT
  monitoring    = !var.cheap

  root_block_device {
    volume_size = 20    # GiB
    volume_type = "gp3" # SSD
    encrypted   = true
  }

  dynamic "ebs_block_device" {
    for_each = var.extra_volumes
    content {
      device_name = ebs_block_device.value.device
      volume_size = ebs_block_device.value.size * 2
    }
  }

  /* Never replace
       the instance because of tag drift. */
  lifecycle {
    ignore_changes = [tags["LastModified"], ami]
  }
}

output "web_ips" {
  value       = aws_instance.web[*].private_ip
  description = "Private IPs" // for the dashboard
}


