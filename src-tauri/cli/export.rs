//! `crm export leads|clients|contracts|campaigns|services|stats --user NAME --out FILE`: a list
//! with its filters, or the statistics, to XLSX or CSV, as that user may see them.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use super::{printable, read_secret};
use crate::app::Crm;
use crate::campaigns::CampaignFilter;
use crate::clients::ClientFilter;
use crate::contracts::ContractFilter;
use crate::domain::id::{CampaignId, ChannelId, ServiceId};
use crate::error::{Error, Result};
use crate::export::{ExportList, Format};
use crate::i18n::Lang;
use crate::leads::{LeadFilter, LeadStatus};
use crate::services::ServiceFilter;
use crate::stats::StatsFilter;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Leads,
    Clients,
    Contracts,
    Campaigns,
    Services,
    Stats,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FileFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    New,
    InWork,
    Converted,
    Lost,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// What to export.
    pub kind: Kind,
    /// The user whose permissions apply (password from CRM_PASSWORD or a prompt).
    #[arg(long)]
    pub user: String,
    /// The file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// xlsx or csv [default: from the file's extension, else xlsx].
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// Part of a name, phone or e-mail (as the list's search box).
    #[arg(long, default_value = "")]
    pub search: String,
    /// Leads with this status.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Leads or clients of this campaign id.
    #[arg(long)]
    pub campaign: Option<CampaignId>,
    /// Campaigns (or statistics) of this channel id.
    #[arg(long)]
    pub channel: Option<ChannelId>,
    /// Campaigns, contracts (or statistics) of this service id.
    #[arg(long)]
    pub service: Option<ServiceId>,
    /// First day, YYYY-MM-DD: leads created, contracts signed, the statistics' period.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Include archived records.
    #[arg(long)]
    pub archived: bool,
}

impl ExportArgs {
    fn what(&self) -> ExportList {
        let search = self.search.clone();
        match self.kind {
            Kind::Leads => ExportList::Leads(LeadFilter {
                search,
                status: self.status.map(|s| match s {
                    Status::New => LeadStatus::New,
                    Status::InWork => LeadStatus::InWork,
                    Status::Converted => LeadStatus::Converted,
                    Status::Lost => LeadStatus::Lost,
                }),
                campaign_id: self.campaign,
                created_from: self.from,
                created_to: self.to,
                include_archived: self.archived,
                ..Default::default()
            }),
            Kind::Clients => ExportList::Clients(ClientFilter {
                search,
                campaign_id: self.campaign,
                include_archived: self.archived,
                ..Default::default()
            }),
            Kind::Contracts => ExportList::Contracts(ContractFilter {
                search,
                service_id: self.service,
                signed_from: self.from,
                signed_to: self.to,
                include_archived: self.archived,
                ..Default::default()
            }),
            Kind::Campaigns => ExportList::Campaigns(CampaignFilter {
                search,
                channel_id: self.channel,
                service_id: self.service,
                include_archived: self.archived,
                ..Default::default()
            }),
            Kind::Services => {
                ExportList::Services(ServiceFilter { search, include_archived: self.archived, ..Default::default() })
            }
            Kind::Stats => ExportList::Stats(StatsFilter {
                from: self.from,
                to: self.to,
                channel_id: self.channel,
                service_id: self.service,
            }),
        }
    }

    fn format(&self) -> Format {
        match self.format {
            Some(FileFormat::Xlsx) => Format::Xlsx,
            Some(FileFormat::Csv) => Format::Csv,
            None if has_extension(&self.out, "csv") => Format::Csv,
            None => Format::Xlsx,
        }
    }
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

pub async fn run(crm: &Crm, args: &ExportArgs, lang: Lang) -> Result<()> {
    let password = read_secret("CRM_PASSWORD", &format!("Password for {}: ", args.user))?;
    let actor = crm.sign_in(&args.user, &password).await?;
    if args.out.is_dir() {
        return Err(Error::State { code: "export_is_folder", params: vec![("path", args.out.display().to_string())] });
    }
    let done = crm.export(&actor, &args.what(), args.format(), lang, &args.out, &|_| {}).await?;
    out!("exported {} rows to {}", done.rows, printable(&done.path.display().to_string()));
    Ok(())
}
