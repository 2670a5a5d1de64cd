// Everything the gateway runs on: a Flex Consumption function app (custom handler) with a user-assigned identity,
// Table/Queue/Blob storage without shared keys, Service Bus without local auth, Key Vault (RBAC) for secrets,
// Application Insights without local auth, and Front Door Standard as the only way in.
param environmentName string
param location string
param tags object
param facilitatorUrl string
param kycStartUrl string
param signupOpen bool
@secure()
param adminKey string

var token = uniqueString(subscription().id, resourceGroup().id, environmentName)
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
var queues = [ 'settlement-jobs', 'stripe-events', 'kyc-events', 'inbox-deliveries' ]

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-${token}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: 'st${token}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

resource packages 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobs
  name: 'app-package'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: 'sb-${token}'
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource serviceBusQueues 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = [for queue in queues: {
  parent: serviceBus
  name: queue
  properties: {
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
  }
}]

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: 'kv-${token}'
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: 'log-${token}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

resource frontDoor 'Microsoft.Cdn/profiles@2025-04-15' = {
  name: 'afd-${token}'
  location: 'global'
  tags: tags
  sku: { name: 'Standard_AzureFrontDoor' }
  properties: { originResponseTimeoutSeconds: 120 }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2025-04-15' = {
  parent: frontDoor
  name: 'ep-${token}'
  location: 'global'
  tags: tags
  properties: { enabledState: 'Enabled' }
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: 'plan-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: 'func-${token}'
  location: location
  tags: union(tags, { 'azd-service-name': 'gateway' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}app-package'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'custom', version: '1.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ipSecurityRestrictionsDefaultAction: 'Deny'
      scmIpSecurityRestrictionsUseMain: false
      ipSecurityRestrictions: [
        {
          name: 'front-door-only'
          priority: 100
          action: 'Allow'
          tag: 'ServiceTag'
          ipAddress: 'AzureFrontDoor.Backend'
          headers: { 'x-azure-fdid': [ frontDoor.properties.frontDoorId ] }
        }
      ]
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // Functions host storage and triggers, all by managed identity.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    // The host's own page at / would shadow the Home function, which proxies / to the handler's catalogue.
    AzureWebJobsDisableHomepage: 'true'
    ServiceBus__fullyQualifiedNamespace: '${serviceBus.name}.servicebus.windows.net'
    ServiceBus__credential: 'managedidentity'
    ServiceBus__clientId: identity.properties.clientId
    SETTLEMENT_QUEUE: 'settlement-jobs'
    STRIPE_EVENTS_QUEUE: 'stripe-events'
    KYC_EVENTS_QUEUE: 'kyc-events'
    INBOX_DELIVERY_QUEUE: 'inbox-deliveries'
    AZURE_CLIENT_ID: identity.properties.clientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    // The handler.
    X402_ADMIN_KEY: adminKey
    X402__PublicBaseUrl: 'https://${endpoint.properties.hostName}'
    X402__FrontDoorId: frontDoor.properties.frontDoorId
    X402__FacilitatorUrl: facilitatorUrl
    X402__DataDirectory: '/tmp/x402'
    X402__Storage__Kind: 'table'
    X402__Storage__TableEndpoint: storage.properties.primaryEndpoints.table
    X402__SealingKey: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/sealing-key/)'
    X402__ServiceBus__Namespace: 'https://${serviceBus.name}.servicebus.windows.net'
    X402__ServiceBus__SettlementQueue: 'settlement-jobs'
    X402__ServiceBus__StripeEventsQueue: 'stripe-events'
    X402__ServiceBus__KycEventsQueue: 'kyc-events'
    X402__ServiceBus__InboxDeliveryQueue: 'inbox-deliveries'
    X402__Settlement__RunWorker: 'false'
    X402__Inbox__RunWorker: 'false'
    X402__Webhooks__RunWorker: 'false'
    X402__Credits__RunAllowanceTimer: 'false'
    X402__Health__RunProber: 'false'
    X402__Settlement__GasWalletKey: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/gas-wallet-key/)'
    X402__Stripe__SecretKey: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/stripe-secret-key/)'
    X402__Stripe__WebhookSecret: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/stripe-webhook-secret/)'
    X402__Kyc__WebhookSecret: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/kyc-webhook-secret/)'
    X402__Kyc__StartUrl: kycStartUrl
    X402__Signup__Open: string(signupOpen)
    X402__Kyc__AttestationKey: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/kyc-attestation-key/)'
    X402__Inbox__SmtpPassword: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/smtp-password/)'
  }
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2025-04-15' = {
  parent: frontDoor
  name: 'gateway'
  properties: {
    loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 }
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2025-04-15' = {
  parent: originGroup
  name: 'function-app'
  properties: {
    hostName: app.properties.defaultHostName
    originHostHeader: app.properties.defaultHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enforceCertificateNameCheck: true
  }
}

// One route, no caching: every paid request must reach the gateway.
resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2025-04-15' = {
  parent: endpoint
  name: 'all'
  dependsOn: [ origin ]
  properties: {
    originGroup: { id: originGroup.id }
    supportedProtocols: [ 'Https' ]
    patternsToMatch: [ '/*' ]
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    httpsRedirect: 'Disabled'
  }
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [ roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor ]: {
  name: guid(storage.id, identity.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

resource serviceBusRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [ roles.serviceBusDataReceiver, roles.serviceBusDataSender ]: {
  name: guid(serviceBus.id, identity.id, role)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

output functionAppName string = app.name
output frontDoorUrl string = 'https://${endpoint.properties.hostName}'
output keyVaultName string = vault.name
